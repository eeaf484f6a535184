// One shared item in the list: kind, name, sender, time, size, progress, preview, actions.
// Deleted items stay as a one-line row with Undo until the delete is carried out.
import { useState } from 'react'
import type { Ctx, Transfer } from '../lib/items'
import { canCopyImages, copyImage, copyText } from './clipboard'
import { describeError } from './errors'
import { absoluteTime, displayName, downloadName, formatBytes, kindLabel, percent, relativeTime } from './format'
import { useSeen } from './hooks'
import { Icon } from './ui'
import { ItemActions } from './ItemActions'
import { ItemName } from './ItemName'
import { FileCard, ImagePreview, TextPreview } from './ItemPreview'
import type { Entry, MetaState } from './itemsState'
import { useAnnounce } from './status'
import { useDownload } from './useDownload'
import type { ItemActions as Actions } from './useItemActions'
import { IMAGE_AUTO_BYTES, TEXT_AUTO_BYTES, loadBlob, loadText, useImageUrl, useItemText } from './useItemContent'
import { useTransfer } from './useUploads'

interface Props {
  ctx: Ctx
  entry: Entry
  metaState?: MetaState
  hidden: boolean
  transfer?: Transfer
  now: number
  selfId: string
  actions: Actions
}

function Progress({ label, done, total, unit }: { label: string; done: number; total: number; unit: 'bytes' | 'chunks' }) {
  const pct = percent(done, total)
  const detail = unit === 'bytes' ? `${formatBytes(done)} of ${formatBytes(total)}` : `${done} of ${total} parts`
  return (
    <div className="progress-line">
      <progress max={100} value={pct} aria-label={`${label}: ${pct}%`} data-testid="item-progress" />
      <span className="muted small">{label} · {detail}</span>
    </div>
  )
}

export function ItemRow({ ctx, entry, metaState, hidden, transfer, now, selfId, actions }: Props) {
  const { item } = entry
  const meta = metaState?.meta
  const kind = meta?.kind ?? null
  const announce = useAnnounce()
  const [ref, seen] = useSeen<HTMLLIElement>()
  const [asked, setAsked] = useState(false)
  const [editing, setEditing] = useState(false)
  const text = useItemText(ctx, item, meta, kind === 'text' && (asked || (seen && meta!.size <= TEXT_AUTO_BYTES)))
  const wantImage = kind === 'image' && (asked || (seen && meta!.size <= IMAGE_AUTO_BYTES))
  const image = useImageUrl(ctx, item, meta, wantImage)
  const name = meta ? displayName(meta, text.value) : metaState?.failed ? 'Cannot decrypt' : 'Decrypting…'
  const download = useDownload(ctx, item, meta, meta ? downloadName(meta, text.value) : '', announce)
  useTransfer(transfer)
  const uploading = transfer && (transfer.state === 'running' || transfer.state === 'paused')

  const attrs = {
    ref, 'data-testid': 'item', 'data-content-id': item.contentId,
    'data-kind': kind ?? (metaState?.failed ? 'unknown' : 'pending'), 'data-complete': String(item.complete),
    'data-pinned': String(item.pinned),
  }

  if (hidden) {
    return (
      <li {...attrs} className="item item-deleted" data-deleted="true">
        <span>Deleted <strong>{name}</strong></span>
        <button type="button" className="button small" data-testid="undo-delete" autoFocus
          onClick={() => actions.undo(item.contentId)}>
          Undo
        </button>
      </li>
    )
  }

  const copy = () => {
    if (!meta) return
    const done = kind === 'image'
      ? copyImage(loadBlob(ctx, item, meta))
      : text.value !== null ? copyText(text.value) : loadText(ctx, item, meta).then(copyText)
    done.then(() => announce('Copied.'), (err) => announce(`Could not copy: ${describeError(err)}`, 'error'))
  }

  return (
    <li {...attrs} className={`item${item.pinned ? ' pinned' : ''}`}>
      <div className="item-head">
        <span className={`kind kind-${kind ?? 'unknown'}`} title={kind ? kindLabel(kind) : 'Unknown'}>
          <Icon name={kind ?? 'unknown'} />
          <span className="visually-hidden">{kind ? kindLabel(kind) : 'Unreadable item'}:</span>
        </span>
        <div className="item-title">
          <ItemName name={name} editing={editing && !!meta}
            onSave={(n) => {
              setEditing(false)
              if (meta) void actions.rename(item, meta, n)
            }}
            onCancel={() => setEditing(false)} />
          <div className="item-meta muted small">
            <span>{item.senderId === selfId ? 'You' : item.senderName}</span>
            <span aria-hidden="true">·</span>
            <time dateTime={item.createdAt} title={absoluteTime(item.createdAt)}>{relativeTime(item.createdAt, now)}</time>
            <span aria-hidden="true">·</span>
            <span>{formatBytes(meta?.size ?? item.totalSize)}</span>
            {item.pinned && <span className="tag">Pinned</span>}
          </div>
        </div>
      </div>
      {metaState?.failed && (
        <p className="error small">Cannot decrypt: this was shared with a different passphrase, or altered.</p>
      )}
      {uploading
        ? <Progress label={transfer.state === 'paused' ? 'Upload paused' : 'Uploading'}
            done={transfer.progress.sent} total={transfer.progress.total} unit="bytes" />
        : !item.complete && <Progress label="Receiving" done={item.receivedChunks} total={item.totalChunks} unit="chunks" />}
      {download.progress !== null && (
        <div className="progress-line">
          <progress max={100} value={Math.floor(download.progress * 100)} aria-label="Download progress" />
          <button type="button" className="link-button small" onClick={download.cancel}>Cancel download</button>
        </div>
      )}
      {meta?.kind === 'text' && (
        <TextPreview text={text.value} error={text.error} meta={meta} complete={item.complete} onLoad={() => setAsked(true)} />
      )}
      {meta?.kind === 'image' && (
        <ImagePreview url={image.value} error={image.error} meta={meta} name={name} complete={item.complete}
          wanted={wantImage} onLoad={() => setAsked(true)} />
      )}
      {meta?.kind === 'file' && <FileCard meta={meta} />}
      {download.warning && meta && (
        <div className="warning small" role="alert">
          <p>This item is {formatBytes(meta.size)}. This browser cannot save it straight to disk, so it is held in memory until saved.</p>
          <button type="button" className="button small" onClick={download.confirm}>Download anyway</button>{' '}
          <button type="button" className="button small secondary" onClick={download.dismiss}>Not now</button>
        </div>
      )}
      <ItemActions kind={kind} complete={item.complete} pinned={item.pinned}
        canCopy={kind === 'text' || (kind === 'image' && canCopyImages())}
        downloading={download.progress !== null}
        onCopy={copy} onDownload={download.start} onRename={() => setEditing(true)}
        onPin={() => void actions.togglePin(item)} onDelete={() => actions.remove(item, name)} />
    </li>
  )
}
