// A joined session: header, share box, own uploads, the item list, and paste/drop anywhere.
import { useCallback, useMemo, useRef, useState } from 'react'
import { describeError } from './errors'
import { pastedFileName } from './names'
import { contextOf, leave, type ActiveSession } from './session'
import { SessionHeader } from './SessionHeader'
import { ShareBox } from './ShareBox'
import { useAnnounce } from './status'
import { UploadList } from './UploadRow'
import { ItemList } from './ItemList'
import { useItemActions } from './useItemActions'
import { usePasteDrop } from './usePasteDrop'
import { useSession } from './useSession'
import { useUploads } from './useUploads'

interface Props {
  session: ActiveSession
  /** Called once the session is left (or expired); the app goes back home. */
  onLeft(): void
}

export function SessionPage({ session, onLeft }: Props) {
  const announce = useAnnounce()
  const ctx = useMemo(() => contextOf(session), [session])
  const [leaving, setLeaving] = useState(false)

  // Expiry and a refused token both end the session page, once.
  const ended = useRef(false)
  const end = useCallback((message: string, forget: boolean) => {
    if (ended.current) return
    ended.current = true
    announce(message, 'error')
    void leave(session, forget).finally(onLeft)
  }, [session, onLeft, announce])

  const s = useSession(session, {
    onExpired: () => end('This session expired: everything in it is gone.', true),
    onFatal: (err) => end(describeError(err), false),
    onRemoteClear: () => announce('All items were cleared.'),
  })
  const actions = useItemActions(ctx, s.dispatch, announce)
  const uploads = useUploads(ctx, announce)

  const onFiles = useCallback((files: File[], pasted = false) => {
    uploads.addFiles(files, pasted ? pastedFileName : undefined)
  }, [uploads])
  const dragging = usePasteDrop({ onText: uploads.addText, onFiles }, !leaving)

  const onLeave = async (forget: boolean) => {
    if (ended.current) return
    ended.current = true
    setLeaving(true)
    uploads.cancelAll()
    await actions.flush()
    await leave(session, forget)
    announce(forget ? 'Left the session; this device forgot its key.' : 'Left the session.')
    onLeft()
  }

  return (
    <div className="page session">
      <SessionHeader sessionId={session.sessionId} passphrase={session.passphrase} connection={s.connection}
        clients={s.clients} selfId={session.clientId} remembered={session.remembered} leaving={leaving}
        onLeave={(forget) => void onLeave(forget)} />
      <main className="stack">
        <ShareBox onText={uploads.addText} onFiles={onFiles} />
        <UploadList transfers={uploads.transfers} onDismiss={uploads.dismiss} />
        <ItemList ctx={ctx} sessionId={session.sessionId} selfId={session.clientId} list={s.list}
          entries={s.entries} transfers={uploads.byContentId} actions={actions}
          onOrder={s.setOrder} onMore={s.loadMore} onRetry={s.retry} />
      </main>
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <div className="drop-target">Drop to share, encrypted</div>
        </div>
      )}
    </div>
  )
}
