#!/usr/bin/env node
// tus-upload uploads the chunk blobs of one announced item with tus-js-client, the library the
// browser app uses, so the Go end-to-end tests exercise the server against a real tus client
// rather than against their own idea of the protocol.
//
// It reads one JSON job from stdin:
//   {endpoint, token, sessionId, contentId, chunks: [{index, path}],
//    patchSize?, retryDelays?, stopAfterBytes?, resume?: {index: uploadUrl}}
// and prints one JSON line per event on stdout: created, resumed, progress, done, aborted, error.
// Exit status: 0 when every chunk is done (or the job stopped itself with stopAfterBytes), 1 on
// an error.
import { createReadStream } from 'node:fs'
import { Upload } from 'tus-js-client'

const PROGRESS_STEP = 64 * 1024
const DEFAULT_RETRY_DELAYS = [0, 100, 200, 400, 800, 1600, 3200]

// These refusals are final for this chunk; tus-js-client would otherwise retry every 409.
const FINAL_CODES = new Set(['chunk_exists', 'chunk_in_progress'])

const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`)

async function readJob() {
  let text = ''
  for await (const part of process.stdin) text += part
  return JSON.parse(text)
}

function problemCode(res) {
  try {
    return JSON.parse(res.getBody()).code
  } catch {
    return undefined
  }
}

function shouldRetry(err) {
  const res = err.originalResponse
  const status = res ? res.getStatus() : 0
  if (res && FINAL_CODES.has(problemCode(res))) return false
  // tus-js-client's own rule: network errors and 5xx, plus 409 (offset conflict) and 423 (locked).
  return status < 400 || status >= 500 || status === 409 || status === 423
}

// uploadChunk resolves with {outcome: 'done' | 'aborted', url} and rejects with the
// tus-js-client error.
function uploadChunk(job, chunk, stopAfterBytes) {
  const { index } = chunk
  const resumeUrl = job.resume?.[index]
  return new Promise((resolve, reject) => {
    let known = resumeUrl
    let printed = -Infinity
    let stopped = false
    const upload = new Upload(createReadStream(chunk.path), {
      endpoint: job.endpoint,
      uploadUrl: resumeUrl ?? null,
      headers: { Authorization: `Bearer ${job.token}` },
      metadata: { sessionId: job.sessionId, contentId: job.contentId, chunkIndex: String(index) },
      chunkSize: job.patchSize ?? Number.POSITIVE_INFINITY,
      retryDelays: job.retryDelays ?? DEFAULT_RETRY_DELAYS,
      onShouldRetry: shouldRetry,
      // Each run is a fresh process; resuming is the job's explicit `resume`, never a stored URL.
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      onUploadUrlAvailable() {
        // Also called after every successful HEAD (job.resume, or a retry after a network
        // error): only a URL we have not seen yet is a new upload.
        const event = upload.url === known ? 'resumed' : 'created'
        known = upload.url
        emit({ event, index, url: upload.url })
      },
      onProgress(sent, total) {
        // Progress may step back after a retry (the server's offset wins), so print that too.
        if (sent >= printed + PROGRESS_STEP || sent < printed || sent === total) {
          printed = sent
          emit({ event: 'progress', index, sent, total })
        }
        if (stopAfterBytes != null && sent >= stopAfterBytes && !stopped) {
          stopped = true
          // Drops any open PATCH mid-body, like a closed laptop lid; the upload URL stays valid.
          upload.abort()
          resolve({ outcome: 'aborted', url: upload.url })
        }
      },
      onSuccess() {
        resolve({ outcome: 'done', url: upload.url })
      },
      onError: reject,
    })
    upload.start()
  })
}

async function main() {
  const job = await readJob()
  for (const [i, chunk] of job.chunks.entries()) {
    const { index } = chunk
    try {
      const { outcome, url } = await uploadChunk(job, chunk, i === 0 ? job.stopAfterBytes : undefined)
      emit({ event: outcome, index, url })
      // Nothing else may run after a cut: the test resumes this very upload in another process.
      if (outcome === 'aborted') process.exit(0)
    } catch (err) {
      const res = err.originalResponse
      emit({
        event: 'error',
        index,
        status: res ? res.getStatus() : 0,
        body: res ? res.getBody() : '',
        message: String(err.message ?? err),
      })
      process.exit(1)
    }
  }
}

await main()
