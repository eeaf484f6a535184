// One polite live region for status messages ("Copied", "Deleted …", errors), shown as a
// toast at the bottom of the screen and read out by screen readers.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react'

export type Tone = 'info' | 'error'
export type Announce = (message: string, tone?: Tone) => void

const AnnounceContext = createContext<Announce>(() => {})

interface Message {
  text: string
  tone: Tone
  n: number
}

export function StatusProvider({ children }: { children: ReactNode }) {
  const [msg, setMsg] = useState<Message | null>(null)
  const announce = useCallback<Announce>((text, tone = 'info') => {
    setMsg((m) => ({ text, tone, n: (m?.n ?? 0) + 1 }))
  }, [])

  useEffect(() => {
    if (!msg) return
    const id = setTimeout(() => setMsg(null), msg.tone === 'error' ? 8000 : 4000)
    return () => clearTimeout(id)
  }, [msg])

  return (
    <AnnounceContext.Provider value={announce}>
      {children}
      <div className={`toast${msg ? ' toast-shown' : ''} toast-${msg?.tone ?? 'info'}`}>
        <div role="status" aria-live="polite" aria-atomic="true" data-testid="status">
          {msg && <span key={msg.n}>{msg.text}</span>}
        </div>
        {msg && <button type="button" className="toast-close" aria-label="Dismiss message"
          onClick={() => setMsg(null)}>×</button>}
      </div>
    </AnnounceContext.Provider>
  )
}

export function useAnnounce(): Announce {
  return useContext(AnnounceContext)
}
