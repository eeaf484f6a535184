// The invite: a link and a QR code for the session. The passphrase goes into the link's
// fragment only when the user asks for it; fragments are never sent to the server, but
// anyone who sees the link or the code can then read the session.
import { Suspense, lazy, useState } from 'react'
import { copyText } from './clipboard'
import { inviteUrl } from './route'
import { useAnnounce } from './status'

const QrCode = lazy(() => import('./QrCode').then((m) => ({ default: m.QrCode })))

interface Props {
  sessionId: string
  /** Absent when this device does not know it (a remembered key was used). */
  passphrase?: string
}

export function InvitePanel({ sessionId, passphrase }: Props) {
  const [withPass, setWithPass] = useState(false)
  const announce = useAnnounce()
  const url = inviteUrl(sessionId, withPass && passphrase ? passphrase : undefined)

  const copy = () => copyText(url).then(
    () => announce('Invite link copied.'),
    () => announce('Could not copy the link; select it and copy by hand.', 'error'),
  )

  return (
    <div className="invite">
      <label className="check">
        <input type="checkbox" checked={withPass} onChange={(e) => setWithPass(e.target.checked)}
          disabled={!passphrase} data-testid="invite-include-passphrase" />
        <span>
          Include the passphrase in the link
          <span className="help block">
            {passphrase
              ? 'Only for people you trust: whoever has this link can read everything.'
              : 'Not available: this device joined with a remembered key.'}
          </span>
        </span>
      </label>
      <div className="input-row">
        <input className="mono" readOnly value={url} aria-label="Invite link" data-testid="invite-link"
          onFocus={(e) => e.currentTarget.select()} />
        <button type="button" className="button secondary" onClick={copy}>Copy</button>
      </div>
      <Suspense fallback={<div className="qr" aria-hidden="true" />}>
        <QrCode text={url} label={`QR code for ${withPass ? 'the session and its passphrase' : 'the session link'}`} />
      </Suspense>
    </div>
  )
}
