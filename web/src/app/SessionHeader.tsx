// The session page's header: which session, the connection, who is here, invite and leave.
import { useState } from 'react'
import type { Client } from '../api/client'
import { InvitePanel } from './InvitePanel'
import type { ConnectionState } from './useSession'
import { Dialog, Icon } from './ui'

const CONNECTION_LABEL: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  polling: 'Polling',
  offline: 'Offline',
}

const CONNECTION_HELP: Record<ConnectionState, string> = {
  connecting: 'Opening the event stream.',
  live: 'Changes arrive instantly.',
  reconnecting: 'The stream dropped; reconnecting without losing events.',
  polling: 'No stream got through this network; checking for changes by polling.',
  offline: 'The server cannot be reached. Changes will show once it can.',
}

export function ConnectionBadge({ state }: { state: ConnectionState }) {
  return (
    <span className={`badge badge-${state}`} data-testid="connection-badge" data-state={state}
      title={CONNECTION_HELP[state]} aria-label={`Connection: ${CONNECTION_LABEL[state]}. ${CONNECTION_HELP[state]}`}>
      <span className="dot" aria-hidden="true" />
      {CONNECTION_LABEL[state]}
    </span>
  )
}

export function Presence({ clients, selfId }: { clients: Client[]; selfId: string }) {
  const sorted = [...clients].sort((a, b) =>
    a.clientId === selfId ? -1 : b.clientId === selfId ? 1 : a.clientName.localeCompare(b.clientName))
  return (
    <ul className="presence" data-testid="presence" aria-label={`${clients.length} here`}>
      {sorted.map((c) => (
        <li key={c.clientId} data-testid="presence-item" data-client-id={c.clientId} className="person"
          title={`Here since ${new Date(c.connectedAt).toLocaleTimeString()}`}>
          <span className="avatar" aria-hidden="true">{[...c.clientName.trim()][0]?.toUpperCase() ?? '?'}</span>
          {c.clientName}{c.clientId === selfId && <span className="muted"> (you)</span>}
        </li>
      ))}
    </ul>
  )
}

interface Props {
  sessionId: string
  passphrase?: string
  connection: ConnectionState
  clients: Client[]
  selfId: string
  remembered: boolean
  leaving: boolean
  onLeave(forget: boolean): void
}

export function SessionHeader(p: Props) {
  const [inviting, setInviting] = useState(false)
  return (
    <header className="session-head">
      <div className="session-title">
        <h1 className="mono" data-testid="session-title">{p.sessionId}</h1>
        <ConnectionBadge state={p.connection} />
        <div className="head-actions">
          <button type="button" className="button secondary" onClick={() => setInviting(true)}>
            <Icon name="link" /> Invite
          </button>
          <button type="button" className="button secondary" data-testid="leave-button"
            onClick={() => p.onLeave(false)} disabled={p.leaving}>
            {p.leaving ? 'Leaving…' : 'Leave'}
          </button>
          {p.remembered && (
            <button type="button" className="link-button" onClick={() => p.onLeave(true)} disabled={p.leaving}
              data-testid="forget-button">
              Leave and forget this device
            </button>
          )}
        </div>
      </div>
      <Presence clients={p.clients} selfId={p.selfId} />
      {inviting && (
        <Dialog title="Invite to this session" onClose={() => setInviting(false)}>
          <InvitePanel sessionId={p.sessionId} passphrase={p.passphrase} />
        </Dialog>
      )}
    </header>
  )
}
