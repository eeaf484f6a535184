// Clearing the whole session needs the session id typed in: it deletes everything, pinned
// items included, for everyone.
import { useState, type FormEvent } from 'react'
import { Dialog } from './ui'

interface Props {
  sessionId: string
  onConfirm(): Promise<boolean>
  onClose(): void
}

export function ClearAllDialog({ sessionId, onConfirm, onClose }: Props) {
  const [typed, setTyped] = useState('')
  const [busy, setBusy] = useState(false)
  const ok = typed.trim() === sessionId

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!ok || busy) return
    setBusy(true)
    if (await onConfirm()) onClose()
    else setBusy(false)
  }

  return (
    <Dialog title="Clear all items?" onClose={onClose} testId="clear-dialog">
      <form onSubmit={submit} className="stack">
        <p>
          This deletes every item in <strong className="mono">{sessionId}</strong> for everyone, pinned
          items included. It cannot be undone.
        </p>
        <div className="field">
          <label htmlFor="clear-confirm">Type the session id to confirm</label>
          <input id="clear-confirm" data-testid="clear-confirm-input" value={typed} autoFocus
            onChange={(e) => setTyped(e.target.value)} autoComplete="off" autoCapitalize="off" spellCheck={false} />
        </div>
        <div className="row-actions">
          <button type="submit" className="button danger" data-testid="clear-confirm-button" disabled={!ok || busy}>
            {busy ? 'Clearing…' : 'Clear all'}
          </button>
          <button type="button" className="button secondary" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Dialog>
  )
}
