// Progress rows for this page's own uploads, with pause, resume and cancel.
import type { Transfer } from '../lib/items'
import { describeError } from './errors'
import { formatBytes, percent } from './format'
import { Icon } from './ui'
import { useTransfer } from './useUploads'

const STATE_LABEL: Record<Transfer['state'], string> = {
  running: 'Uploading', paused: 'Paused', done: 'Shared', error: 'Failed', cancelled: 'Cancelled',
}

export function UploadRow({ t, onDismiss }: { t: Transfer; onDismiss(): void }) {
  useTransfer(t)
  const name = t.meta.kind === 'text' ? 'Text' : t.meta.name || 'File'
  const { sent, total } = t.progress
  const pct = percent(sent, total)
  const active = t.state === 'running' || t.state === 'paused'

  return (
    <li className={`upload-row state-${t.state}`} data-testid="upload-row" data-content-id={t.contentId}
      data-state={t.state}>
      <div className="upload-line">
        <span className="upload-name" title={name}>{name}</span>
        <span className="muted small">
          {STATE_LABEL[t.state]} · {formatBytes(sent)} / {formatBytes(total)}
        </span>
      </div>
      <progress max={100} value={pct} aria-label={`${name}: ${pct}%`} />
      {t.state === 'error' && <p className="error small">{describeError(t.error)}</p>}
      <div className="row-actions">
        {t.state === 'running' && (
          <button type="button" className="button small" data-testid="upload-pause" onClick={() => t.pause()}>
            <Icon name="pause" size={14} /> Pause
          </button>
        )}
        {t.state === 'paused' && (
          <button type="button" className="button small" data-testid="upload-resume" onClick={() => t.resume()}>
            <Icon name="play" size={14} /> Resume
          </button>
        )}
        {active && (
          <button type="button" className="button small" data-testid="upload-cancel" onClick={() => t.cancel()}>
            <Icon name="close" size={14} /> Cancel
          </button>
        )}
        {t.state === 'error' && (
          <button type="button" className="button small" onClick={onDismiss}>Dismiss</button>
        )}
      </div>
    </li>
  )
}

export function UploadList({ transfers, onDismiss }: { transfers: Transfer[]; onDismiss(t: Transfer): void }) {
  if (transfers.length === 0) return null
  return (
    <section aria-label="Uploads">
      <ul className="uploads">
        {transfers.map((t) => <UploadRow key={t.contentId} t={t} onDismiss={() => onDismiss(t)} />)}
      </ul>
    </section>
  )
}
