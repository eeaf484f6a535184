// Copying to the clipboard, with the fallbacks pages served over plain HTTP need (no
// navigator.clipboard outside a secure context).

export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text)
      return
    } catch {
      // Permission refused or the document lost focus: try the old way below.
    }
  }
  const ta = document.createElement('textarea')
  ta.value = text
  ta.setAttribute('readonly', '')
  ta.style.position = 'fixed'
  ta.style.opacity = '0'
  document.body.appendChild(ta)
  ta.select()
  const ok = document.execCommand('copy')
  ta.remove()
  if (!ok) throw new Error('The browser refused to copy.')
}

export function canCopyImages(): boolean {
  return typeof ClipboardItem !== 'undefined' && !!navigator.clipboard?.write
}

/** Browsers take image/png on the clipboard; anything else is redrawn as PNG first. */
async function asPng(blob: Blob): Promise<Blob> {
  if (blob.type === 'image/png') return blob
  const bitmap = await createImageBitmap(blob)
  const canvas = document.createElement('canvas')
  canvas.width = bitmap.width
  canvas.height = bitmap.height
  canvas.getContext('2d')?.drawImage(bitmap, 0, 0)
  bitmap.close()
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('Could not convert the image.'))), 'image/png'))
}

/**
 * Takes the blob as a promise so the ClipboardItem is made within the click itself, which
 * Safari requires; the decryption finishes while the clipboard write waits.
 */
export async function copyImage(blob: Promise<Blob>): Promise<void> {
  const item = new ClipboardItem({ 'image/png': blob.then(asPng) })
  await navigator.clipboard.write([item])
}
