// Small UI primitives shared by the pages: line icons as inline SVG (no icon font, no extra
// request; decorative, the buttons holding them carry their own labels) and a modal dialog on
// the native <dialog>, where the browser traps focus and Escape closes it.
import { useEffect, useRef, type ReactNode } from 'react'

const PATHS = {
  text: ['M5 6h14', 'M5 10h14', 'M5 14h14', 'M5 18h9'],
  image: ['M4 5h16v14H4z', 'M4 16l5-5 4 4 2-2 5 5', 'M15 9.5a1.5 1.5 0 1 0 0.01 0'],
  file: ['M7 3h7l5 5v13H7z', 'M14 3v5h5'],
  unknown: ['M7 3h10v18H7z', 'M10 10a2 2 0 1 1 3 1.7c-.7.4-1 1-1 1.8', 'M12 16.5v.5'],
  copy: ['M9 9h11v11H9z', 'M5 15H4V4h11v1'],
  download: ['M12 4v11', 'M7 10l5 5 5-5', 'M5 20h14'],
  rename: ['M4 20h4L19 9l-4-4L4 16z', 'M13.5 6.5l4 4'],
  pin: ['M9 4h6', 'M10 4v6l-3 4h10l-3-4V4', 'M12 14v6'],
  trash: ['M4 7h16', 'M10 7V4h4v3', 'M6 7l1 13h10l1-13'],
  pause: ['M8 5v14', 'M16 5v14'],
  play: ['M7 4l13 8-13 8z'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  link: ['M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1', 'M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1'],
  upload: ['M12 20V9', 'M7 13l5-5 5 5', 'M5 4h14'],
  sort: ['M8 4v16', 'M4 16l4 4 4-4', 'M16 20V4', 'M12 8l4-4 4 4'],
} as const

export type IconName = keyof typeof PATHS

export function Icon({ name, size = 18 }: { name: IconName; size?: number }) {
  return (
    <svg className="icon" width={size} height={size} viewBox="0 0 24 24" fill="none"
      stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round"
      aria-hidden="true" focusable="false">
      {PATHS[name].map((d) => <path key={d} d={d} />)}
    </svg>
  )
}

interface DialogProps {
  title: string
  onClose(): void
  children: ReactNode
  className?: string
  testId?: string
}

export function Dialog({ title, onClose, children, className, testId }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const d = ref.current
    if (d && !d.open) d.showModal()
    return () => d?.close()
  }, [])

  // The close event also follows a StrictMode remount's close(); only a dialog that is
  // really shut (Escape, the button, the backdrop) reports it.
  const closed = () => {
    if (!ref.current?.open) onClose()
  }

  return (
    <dialog ref={ref} className={`dialog ${className ?? ''}`} aria-label={title} data-testid={testId}
      onClose={closed}
      onClick={(e) => { if (e.target === ref.current) ref.current?.close() }}>
      <div className="dialog-inner">
        <div className="dialog-head">
          <h2>{title}</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={() => ref.current?.close()}>×</button>
        </div>
        {children}
      </div>
    </dialog>
  )
}
