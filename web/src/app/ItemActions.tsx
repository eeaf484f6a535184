// The buttons under an item: copy, download, rename, pin, delete. Labels are visible on
// wide screens; on phones the icons stay and the accessible names stay the same.
import type { Kind } from '../crypto'
import { Icon, type IconName } from './ui'

interface ActionProps {
  icon: IconName
  label: string
  testId: string
  onClick(): void
  disabled?: boolean
}

function Action({ icon, label, testId, onClick, disabled }: ActionProps) {
  return (
    <button type="button" className="button small action" data-testid={testId} onClick={onClick}
      disabled={disabled} aria-label={label} title={label}>
      <Icon name={icon} size={16} />
      <span className="action-label" aria-hidden="true">{label}</span>
    </button>
  )
}

interface Props {
  kind: Kind | null
  complete: boolean
  pinned: boolean
  canCopy: boolean
  downloading: boolean
  onCopy(): void
  onDownload(): void
  onRename(): void
  onPin(): void
  onDelete(): void
}

export function ItemActions(p: Props) {
  const readable = p.kind !== null
  return (
    <div className="row-actions item-actions">
      {readable && p.canCopy && (
        <Action icon="copy" label="Copy" testId="item-copy" onClick={p.onCopy} disabled={!p.complete} />
      )}
      {readable && (
        <Action icon="download" label={p.downloading ? 'Downloading…' : 'Download'} testId="item-download"
          onClick={p.onDownload} disabled={!p.complete || p.downloading} />
      )}
      {readable && <Action icon="rename" label="Rename" testId="item-rename" onClick={p.onRename} />}
      <Action icon="pin" label={p.pinned ? 'Unpin' : 'Pin'} testId="item-pin" onClick={p.onPin} />
      <Action icon="trash" label="Delete" testId="item-delete" onClick={p.onDelete} />
    </div>
  )
}
