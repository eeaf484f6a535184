// A QR code drawn as one SVG path from qrcode-generator's module matrix, so React renders
// it without injecting markup. Dark modules on a white quiet zone scan in dark mode too.
import qrcode from 'qrcode-generator'
import { useMemo } from 'react'

function qrPath(text: string): { d: string; size: number } | null {
  try {
    const qr = qrcode(0, 'M')
    qr.addData(text, 'Byte')
    qr.make()
    const n = qr.getModuleCount()
    let d = ''
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        if (qr.isDark(r, c)) d += `M${c + 4} ${r + 4}h1v1h-1z`
      }
    }
    return { d, size: n + 8 }
  } catch {
    return null // longer than a QR code holds
  }
}

export function QrCode({ text, label }: { text: string; label: string }) {
  const qr = useMemo(() => qrPath(text), [text])
  if (!qr) return <p className="muted">This link is too long for a QR code.</p>
  return (
    <svg className="qr" viewBox={`0 0 ${qr.size} ${qr.size}`} role="img" aria-label={label}
      shapeRendering="crispEdges" data-testid="invite-qr">
      <rect width={qr.size} height={qr.size} fill="#fff" />
      <path d={qr.d} fill="#000" />
    </svg>
  )
}
