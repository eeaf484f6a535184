// Paste and drag-and-drop anywhere on the session page. Files always become uploads; plain
// text does too, unless it is pasted or dropped into a text field, where it behaves as usual.
import { useEffect, useRef, useState } from 'react'

export interface PasteDropHandlers {
  onText(text: string): void
  onFiles(files: File[], pasted: boolean): void
}

function isEditable(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  return target.isContentEditable || target instanceof HTMLTextAreaElement ||
    (target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit', 'file'].includes(target.type))
}

function hasFiles(e: DragEvent): boolean {
  return !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files')
}

/** Returns whether files are being dragged over the page, for the drop overlay. */
export function usePasteDrop(handlers: PasteDropHandlers, enabled = true): boolean {
  const [dragging, setDragging] = useState(false)
  const ref = useRef(handlers)
  ref.current = handlers

  useEffect(() => {
    if (!enabled) return
    let depth = 0

    const onPaste = (e: ClipboardEvent) => {
      const dt = e.clipboardData
      if (!dt) return
      const files = Array.from(dt.files)
      if (files.length > 0) {
        e.preventDefault()
        ref.current.onFiles(files, true)
        return
      }
      if (isEditable(e.target) || document.querySelector('dialog[open]')) return
      const text = dt.getData('text/plain')
      if (text) {
        e.preventDefault()
        ref.current.onText(text)
      }
    }
    const onEnter = (e: DragEvent) => {
      if (!hasFiles(e)) return
      e.preventDefault()
      depth++
      setDragging(true)
    }
    const onOver = (e: DragEvent) => {
      const text = !!e.dataTransfer?.types.includes('text/plain') && !isEditable(e.target)
      if (!hasFiles(e) && !text) return
      e.preventDefault()
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'
    }
    const onLeave = (e: DragEvent) => {
      if (!hasFiles(e)) return
      depth = Math.max(0, depth - 1)
      if (depth === 0) setDragging(false)
    }
    const onDrop = (e: DragEvent) => {
      const dt = e.dataTransfer
      depth = 0
      setDragging(false)
      if (!dt) return
      const files = Array.from(dt.files)
      if (files.length > 0) {
        e.preventDefault()
        ref.current.onFiles(files, false)
        return
      }
      const text = dt.getData('text/plain')
      if (text && !isEditable(e.target)) {
        e.preventDefault()
        ref.current.onText(text)
      }
    }
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        depth = 0
        setDragging(false)
      }
    }

    document.addEventListener('paste', onPaste)
    window.addEventListener('dragenter', onEnter)
    window.addEventListener('dragover', onOver)
    window.addEventListener('dragleave', onLeave)
    window.addEventListener('drop', onDrop)
    window.addEventListener('keydown', onKey)
    return () => {
      document.removeEventListener('paste', onPaste)
      window.removeEventListener('dragenter', onEnter)
      window.removeEventListener('dragover', onOver)
      window.removeEventListener('dragleave', onLeave)
      window.removeEventListener('drop', onDrop)
      window.removeEventListener('keydown', onKey)
    }
  }, [enabled])

  return dragging
}
