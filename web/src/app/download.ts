// Saving a decrypted item as a file. Small items are decrypted into memory and handed to an
// <a download>; big ones stream to a file the user picks where the browser allows it.

/** Above this, holding the whole item in memory deserves a warning. */
export const BIG_BYTES = 200 * 1024 * 1024

interface SaveFilePickerOptions {
  suggestedName?: string
  types?: { description?: string; accept: Record<string, string[]> }[]
}
type SaveFilePicker = (opts?: SaveFilePickerOptions) => Promise<FileSystemFileHandle>

function picker(): SaveFilePicker | undefined {
  return (window as unknown as { showSaveFilePicker?: SaveFilePicker }).showSaveFilePicker
}

export function canStreamToDisk(): boolean {
  return typeof picker() === 'function'
}

/** Asks where to save; must be called straight from the click that started the download. */
export async function pickWritable(name: string): Promise<FileSystemWritableFileStream> {
  const handle = await picker()!({ suggestedName: name })
  return handle.createWritable()
}

export interface Sink {
  write(chunk: Uint8Array): Promise<void>
  close(): Promise<void>
  abort(): Promise<void>
}

export function fileSink(w: FileSystemWritableFileStream): Sink {
  return {
    write: (chunk) => w.write(chunk as Uint8Array<ArrayBuffer>),
    close: () => w.close(),
    abort: () => w.abort(),
  }
}

/** Collects the chunks in memory; `blob()` gives them back with the right type. */
export function memorySink(mime: string): Sink & { blob(): Blob } {
  let parts: BlobPart[] = []
  return {
    async write(chunk) {
      parts.push(chunk as Uint8Array<ArrayBuffer>)
    },
    async close() {},
    async abort() {
      parts = []
    },
    blob: () => new Blob(parts, { type: mime || 'application/octet-stream' }),
  }
}

export function withType(blob: Blob, mime: string): Blob {
  const type = mime || 'application/octet-stream'
  return blob.type === type ? blob : new Blob([blob], { type })
}

export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.rel = 'noopener'
  document.body.appendChild(a)
  a.click()
  a.remove()
  // The download has started reading the URL; give slow browsers a moment before revoking.
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}
