// The home page: the create-or-join form, the invite for the session being typed, and the
// sessions this device joined recently.
import { useState } from 'react'
import { cryptoBackendName } from '../crypto'
import { InvitePanel } from './InvitePanel'
import { JoinForm } from './JoinForm'
import { loadRecent, validateSessionId } from './names'
import { sessionHash, type Route } from './route'
import type { ActiveSession } from './session'
import { useJoinForm } from './useJoinForm'

interface Props {
  route: Route
  onJoined(s: ActiveSession): void
  /** A session still open in this tab, when the user navigated away from it. */
  current: ActiveSession | null
}

export function Home({ route, onJoined, current }: Props) {
  const form = useJoinForm(route, onJoined)
  const recent = loadRecent().filter((r) => r.sessionId !== form.sessionId)
  const validSid = validateSessionId(form.sessionId) === null
  const [inviteOpen, setInviteOpen] = useState(false)

  return (
    <div className="page home">
      <header className="home-head">
        <h1>ShareThings</h1>
        <p className="muted">Share text, images and files between your devices, end-to-end encrypted.</p>
      </header>
      <main className="stack">
        {current && (
          <p className="card notice">
            You are still in <strong>{current.sessionId}</strong>.{' '}
            <a href={sessionHash(current.sessionId)}>Return to it</a>
          </p>
        )}
        <JoinForm form={form} />
        {validSid && (
          <details className="card" onToggle={(e) => setInviteOpen(e.currentTarget.open)}>
            <summary>Invite others to <span className="mono">{form.sessionId}</span></summary>
            {inviteOpen && <InvitePanel sessionId={form.sessionId} passphrase={form.passphrase || undefined} />}
          </details>
        )}
        {recent.length > 0 && (
          <nav className="card" aria-labelledby="recent-head">
            <h2 id="recent-head">Recent sessions</h2>
            <ul className="recent">
              {recent.map((r) => (
                <li key={r.sessionId}>
                  <a href={sessionHash(r.sessionId)} className="mono">{r.sessionId}</a>
                  {r.remembered && <span className="tag">remembered</span>}
                </li>
              ))}
            </ul>
          </nav>
        )}
      </main>
      <footer className="muted small">
        Encryption runs in this browser ({cryptoBackendName() === 'webcrypto' ? 'WebCrypto' : 'built-in JavaScript, as this page has no secure context'}).
        The server only stores ciphertext.
      </footer>
    </div>
  )
}
