// The create-or-join form. All state and logic live in useJoinForm; this only lays it out.
import type { FormEvent } from 'react'
import { useCountdown } from './hooks'
import { PassphraseField } from './PassphraseField'
import type { JoinForm as Form } from './useJoinForm'

export function JoinForm({ form }: { form: Form }) {
  const wait = useCountdown(form.error?.until ?? 0)
  const busy = form.busy !== null

  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    if (!busy && wait === 0) void form.submit()
  }

  return (
    <form className="card join-form" onSubmit={onSubmit} noValidate aria-busy={busy}>
      <h2>Create or join a session</h2>
      <div className="field">
        <label htmlFor="session-id">Session id</label>
        <div className="input-row">
          <input id="session-id" data-testid="session-id" value={form.sessionId}
            onChange={(e) => form.setSessionId(e.target.value.trim())} disabled={busy}
            autoComplete="off" autoCapitalize="off" spellCheck={false} maxLength={64} required
            aria-describedby="session-id-help" />
          <button type="button" className="button secondary" onClick={form.newSessionId} disabled={busy}
            aria-label="Suggest another random session id">
            New
          </button>
        </div>
        <p id="session-id-help" className="help">A new id creates a session; an existing one joins it.</p>
      </div>
      <div className="field">
        <label htmlFor="client-name">Your name</label>
        <input id="client-name" data-testid="client-name" value={form.clientName}
          onChange={(e) => form.setClientName(e.target.value)} disabled={busy}
          autoComplete="nickname" maxLength={64} required />
      </div>
      <PassphraseField value={form.passphrase} onChange={form.setPassphrase} disabled={busy} />
      <label className="check">
        <input type="checkbox" data-testid="remember" checked={form.remember}
          onChange={(e) => form.setRemember(e.target.checked)} disabled={busy} />
        <span>Remember this device <span className="muted">(keeps the key here, not the passphrase)</span></span>
      </label>
      {form.error && (
        <div className="error" role="alert" data-testid="join-error">
          {form.error.message}
          {form.error.until !== undefined && (
            <> {wait > 0 ? `Try again in ${wait} s.` : 'You can try again now.'}</>
          )}
        </div>
      )}
      <button type="submit" className="button primary wide" data-testid="join-button"
        disabled={busy || wait > 0}>
        {form.busy === 'rejoin' ? 'Rejoining…' : form.busy === 'join' ? 'Deriving key…' : 'Join'}
      </button>
    </form>
  )
}
