// The create-or-join form: its fields, validation, the join itself, the error a person
// should see, the wait after rate limiting, and the silent rejoin with a remembered key
// when a session link is opened on a device that remembers it.
import { useCallback, useEffect, useRef, useState } from 'react'
import { describeJoinError } from './errors'
import { loadClientName, loadRecent, randomSessionId, saveClientName, validateClientName, validateSessionId } from './names'
import { loadSessionPage, navigate, sessionHash, type Route } from './route'
import { join, rejoin, type ActiveSession } from './session'

export interface JoinError {
  message: string
  /** Date.now() value before which joining again is pointless. */
  until?: number
}

export function useJoinForm(route: Route, onJoined: (s: ActiveSession) => void) {
  const [sessionId, setSessionId] = useState(() => route.sid ?? randomSessionId())
  const [clientName, setClientName] = useState(loadClientName)
  const [passphrase, setPassphrase] = useState(route.pass ?? '')
  const [remember, setRemember] = useState(false)
  const [busy, setBusy] = useState<null | 'join' | 'rejoin'>(null)
  const [error, setError] = useState<JoinError | null>(null)
  const joined = useRef(onJoined)
  joined.current = onJoined

  // A link opened while on this page prefills the form; a passphrase it carries is then
  // dropped from the address bar and the history.
  useEffect(() => {
    if (route.sid) setSessionId(route.sid)
    if (route.pass) {
      setPassphrase(route.pass)
      navigate(sessionHash(route.sid ?? ''), true)
    }
  }, [route.sid, route.pass])

  // A session link on a device that remembers the key joins without asking.
  const tried = useRef(new Set<string>())
  useEffect(() => {
    const sid = route.sid
    if (!sid || route.pass || tried.current.has(sid) || validateSessionId(sid)) return
    if (!loadRecent().some((r) => r.sessionId === sid && r.remembered)) return
    tried.current.add(sid)
    setBusy('rejoin')
    void loadSessionPage().catch(() => {})
    rejoin(sid, loadClientName()).then(
      (s) => {
        if (s) joined.current(s)
        else setBusy(null)
      },
      (err) => {
        setBusy(null)
        setError({ message: `Could not rejoin with the remembered key. ${describeJoinError(err).message}` })
      },
    )
  }, [route.sid, route.pass])

  const submit = useCallback(async () => {
    const problem = validateSessionId(sessionId) ?? validateClientName(clientName) ??
      (passphrase === '' ? 'Enter the passphrase, or generate one for a new session.' : null)
    if (problem) {
      setError({ message: problem })
      return
    }
    setBusy('join')
    setError(null)
    void loadSessionPage().catch(() => {}) // in parallel with the key derivation
    saveClientName(clientName)
    try {
      joined.current(await join({ sessionId, clientName, passphrase, remember }))
    } catch (err) {
      const d = describeJoinError(err)
      setError({ message: d.message, until: d.retryAfter ? Date.now() + d.retryAfter * 1000 : undefined })
      setBusy(null)
    }
  }, [sessionId, clientName, passphrase, remember])

  const edit = <T,>(set: (v: T) => void) => (v: T) => {
    set(v)
    setError((e) => (e?.until ? e : null))
  }

  return {
    sessionId, setSessionId: edit(setSessionId),
    clientName, setClientName: edit(setClientName),
    passphrase, setPassphrase: edit(setPassphrase),
    remember, setRemember,
    busy, error, submit,
    newSessionId: () => edit(setSessionId)(randomSessionId()),
  }
}

export type JoinForm = ReturnType<typeof useJoinForm>
