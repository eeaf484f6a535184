// What an item shows of its content: the first lines of a text (expandable), an image
// thumbnail (click for the full view), or a card for other files.
import { useState } from 'react'
import type { Meta } from '../crypto'
import { Dialog } from './ui'
import { formatBytes } from './format'

const PREVIEW_LINES = 6
const PREVIEW_CHARS = 600

interface TextProps {
  text: string | null
  error: string | null
  meta: Meta
  complete: boolean
  onLoad(): void
}

export function TextPreview({ text, error, meta, complete, onLoad }: TextProps) {
  const [expanded, setExpanded] = useState(false)
  if (error) return <p className="error small">{error}</p>
  if (text === null) {
    if (!complete) return null
    return (
      <button type="button" className="link-button" onClick={onLoad}>
        Show text ({formatBytes(meta.size)})
      </button>
    )
  }
  const lines = text.split('\n')
  const long = lines.length > PREVIEW_LINES || text.length > PREVIEW_CHARS
  const shown = expanded || !long ? text : lines.slice(0, PREVIEW_LINES).join('\n').slice(0, PREVIEW_CHARS)
  return (
    <div className="text-preview">
      <pre data-testid="item-text" className={long && !expanded ? 'clipped' : ''}>{shown}</pre>
      {long && (
        <button type="button" className="link-button" aria-expanded={expanded} onClick={() => setExpanded((x) => !x)}>
          {expanded ? 'Show less' : lines.length > PREVIEW_LINES ? `Show all ${lines.length} lines` : 'Show all'}
        </button>
      )}
    </div>
  )
}

interface ImageProps {
  url: string | null
  error: string | null
  meta: Meta
  name: string
  complete: boolean
  wanted: boolean
  onLoad(): void
}

export function ImagePreview({ url, error, meta, name, complete, wanted, onLoad }: ImageProps) {
  const [full, setFull] = useState(false)
  const w = meta.image?.width
  const h = meta.image?.height
  const ratio = w && h ? `${w} / ${h}` : undefined
  if (error) return <p className="error small">Cannot show this image: {error}</p>
  if (!complete) return null
  if (!url) {
    return wanted
      ? <div className="thumb placeholder" style={{ aspectRatio: ratio }} aria-label="Loading preview" />
      : <button type="button" className="link-button" onClick={onLoad}>Show preview ({formatBytes(meta.size)})</button>
  }
  return (
    <>
      <button type="button" className="thumb" onClick={() => setFull(true)} aria-label={`View ${name} full size`}>
        <img src={url} alt={name} data-testid="item-image" width={w} height={h} style={{ aspectRatio: ratio }}
          decoding="async" />
      </button>
      {full && (
        <Dialog title={name} onClose={() => setFull(false)} className="image-dialog" testId="image-dialog">
          <img src={url} alt={name} className="full-image" />
          {w && h && <p className="muted small">{w} × {h} · {formatBytes(meta.size)}</p>}
        </Dialog>
      )}
    </>
  )
}

export function FileCard({ meta }: { meta: Meta }) {
  const ext = /\.([a-z0-9]{1,8})$/i.exec(meta.name)?.[1]?.toUpperCase()
  return (
    <div className="file-card">
      <span className="file-ext" aria-hidden="true">{ext ?? 'FILE'}</span>
      <span className="muted small">{meta.mime || 'unknown type'} · {formatBytes(meta.size)}</span>
    </div>
  )
}
