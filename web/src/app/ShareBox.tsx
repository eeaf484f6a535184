// Sharing: a text box (Share button or Ctrl/Cmd+Enter) and a file picker for several files.
// Paste and drop work anywhere on the page (usePasteDrop); this box says so.
import { useId, useState, type FormEvent, type KeyboardEvent } from 'react'
import { Icon } from './ui'
import { loadPatchSize, savePatchSize } from './names'

// Request sizes a user behind a proxy with a body limit can pick; 0: one request per chunk.
const PATCH_SIZES = [
  { bytes: 0, label: 'Whole chunks' },
  { bytes: 1 << 20, label: '1 MiB requests' },
  { bytes: 256 << 10, label: '256 KiB requests' },
]

interface Props {
  onText(text: string): void
  onFiles(files: File[]): void
}

export function ShareBox({ onText, onFiles }: Props) {
  const [text, setText] = useState('')
  const id = useId()

  const share = () => {
    if (text === '') return
    onText(text)
    setText('')
  }
  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    share()
  }
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault()
      share()
    }
  }

  return (
    <form className="card share-box" onSubmit={onSubmit} aria-label="Share">
      <label htmlFor={`${id}-text`} className="visually-hidden">Text to share</label>
      <textarea id={`${id}-text`} data-testid="share-text" value={text} rows={3}
        placeholder="Type or paste text to share…" onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown} aria-describedby={`${id}-hint`} />
      <div className="share-actions">
        <button type="submit" className="button primary" data-testid="share-button" disabled={text === ''}>
          Share
        </button>
        <label className="button secondary file-label">
          <Icon name="upload" /> Add files
          <input type="file" multiple className="visually-hidden" data-testid="file-input"
            onChange={(e) => {
              const files = Array.from(e.currentTarget.files ?? [])
              e.currentTarget.value = '' // picking the same file again still fires
              if (files.length) onFiles(files)
            }} />
        </label>
        <label className="visually-hidden" htmlFor={`${id}-patch`}>Upload request size</label>
        <select id={`${id}-patch`} data-testid="patch-size" className="patch-size" defaultValue={loadPatchSize() ?? 0}
          title="Smaller requests get through proxies that limit request bodies"
          onChange={(e) => savePatchSize(Number(e.currentTarget.value) || undefined)}>
          {PATCH_SIZES.map((p) => <option key={p.bytes} value={p.bytes}>{p.label}</option>)}
        </select>
        <p id={`${id}-hint`} className="help hint">
          <kbd>Ctrl</kbd>+<kbd>Enter</kbd> shares. Paste or drop files anywhere.
        </p>
      </div>
    </form>
  )
}
