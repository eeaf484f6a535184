// The app shell: hash routing between home and a joined session. The joined session lives
// here, above the pages, so navigating back home and forward again keeps it.
import { Suspense, lazy, useCallback, useEffect, useRef, useState } from 'react'
import { Home } from './Home'
import { loadSessionPage, navigate, sessionHash, useHashRoute } from './route'
import { leave, type ActiveSession } from './session'
import { StatusProvider, useAnnounce } from './status'

// The session page (and the upload, download and event code under it) loads on first join.
const SessionPage = lazy(() => loadSessionPage().then((m) => ({ default: m.SessionPage })))

function Shell() {
  const route = useHashRoute()
  const announce = useAnnounce()
  const [session, setSession] = useState<ActiveSession | null>(null)
  const current = useRef(session)
  current.current = session

  const onJoined = useCallback((s: ActiveSession) => {
    const old = current.current
    if (old && old !== s) void leave(old) // one session per tab
    setSession(s)
    navigate(sessionHash(s.sessionId), true)
    announce(s.created ? `Created session ${s.sessionId}.` : `Joined ${s.sessionId}.`)
  }, [announce])

  const onLeft = useCallback(() => {
    setSession(null)
    navigate('#/')
  }, [])

  // Closing the tab ends presence at once instead of after the server's grace period.
  useEffect(() => {
    if (!session) return
    const bye = (e: PageTransitionEvent) => {
      if (!e.persisted) void session.api.leave().catch(() => {})
    }
    window.addEventListener('pagehide', bye)
    return () => window.removeEventListener('pagehide', bye)
  }, [session])

  useEffect(() => {
    document.title = session && route.sid === session.sessionId ? `${session.sessionId} · ShareThings` : 'ShareThings'
  }, [session, route.sid])

  if (session && route.sid === session.sessionId) {
    return (
      <Suspense fallback={<p className="page muted" role="status">Opening {session.sessionId}…</p>}>
        <SessionPage key={session.clientId} session={session} onLeft={onLeft} />
      </Suspense>
    )
  }
  return <Home route={route} onJoined={onJoined} current={session} />
}

export function App() {
  return (
    <StatusProvider>
      <Shell />
    </StatusProvider>
  )
}
