// An item's name, or the inline input that renames it (Enter saves, Escape cancels, leaving
// the field saves).
import { useEffect, useRef, useState } from 'react'

interface Props {
  name: string
  editing: boolean
  onSave(name: string): void
  onCancel(): void
}

export function ItemName({ name, editing, onSave, onCancel }: Props) {
  if (!editing) return <span className="item-name" data-testid="item-name" title={name}>{name}</span>
  return <RenameInput name={name} onSave={onSave} onCancel={onCancel} />
}

/** Mounted fresh for every rename, so it starts from the current name. */
function RenameInput({ name, onSave, onCancel }: Omit<Props, 'editing'>) {
  const [value, setValue] = useState(name)
  const input = useRef<HTMLInputElement>(null)
  const done = useRef(false)

  useEffect(() => {
    const el = input.current
    if (!el) return
    el.focus()
    const dot = el.value.lastIndexOf('.')
    el.setSelectionRange(0, dot > 0 ? dot : el.value.length) // the name, not the extension
  }, [])

  const finish = (save: boolean) => {
    if (done.current) return
    done.current = true
    const v = value.trim()
    if (save && v !== '' && v !== name) onSave(v)
    else onCancel()
  }

  return (
    <input ref={input} className="rename-input" data-testid="rename-input" aria-label="New name"
      value={value} maxLength={255} onChange={(e) => setValue(e.target.value)}
      onBlur={() => finish(true)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault()
          finish(true)
        } else if (e.key === 'Escape') {
          e.preventDefault()
          e.stopPropagation()
          finish(false)
        }
      }} />
  )
}
