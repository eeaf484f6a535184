#!/usr/bin/env node
// events follows a session's event stream with the `eventsource` package, a WHATWG EventSource
// for Node, so the Go end-to-end tests check the server against a real SSE client: its parser,
// its reconnects after the server or the network goes away, and the Last-Event-ID it sends
// when it reconnects.
//
// It reads one JSON job, from argv[2] or else from the first line of stdin:
//   {url, token, lastEventId?}
// The token goes in an Authorization header. lastEventId, when given, is sent as Last-Event-ID
// on every connection until the stream has shown an id of its own; from then on the library
// sends the newest id it has seen, as a browser would.
//
// It prints one JSON line per happening on stdout, as it happens:
//   {"open":true}                          a connection answered 200 text/event-stream
//   {"id":7,"event":"content.chunk","data":{...}}   an event (data parsed when it is JSON)
//   {"error":"...","code":503,"readyState":0}       readyState 0: it reconnects by itself;
//                                                   2: the library gave up (spec: non-200)
// It runs until stdin closes, so the test that started it decides when it ends.
import { EventSource } from 'eventsource'

// PROTOCOL §6. EventSource dispatches a frame with an `event:` field only to listeners of that
// name (onmessage gets only unnamed frames), so every name is listened to explicitly.
const EVENT_NAMES = [
  'client.joined',
  'client.left',
  'content.created',
  'content.chunk',
  'content.completed',
  'content.updated',
  'content.deleted',
  'session.cleared',
  'session.expired',
  'session.resync',
  'message',
]

const emit = (line) => process.stdout.write(`${JSON.stringify(line)}\n`)

// readJob returns the job from argv or the first stdin line; the rest of stdin is only
// watched for its end.
function readJob() {
  if (process.argv[2]) return Promise.resolve(JSON.parse(process.argv[2]))
  return new Promise((resolve, reject) => {
    let text = ''
    const onData = (part) => {
      text += part
      const nl = text.indexOf('\n')
      if (nl >= 0) {
        process.stdin.off('data', onData)
        resolve(JSON.parse(text.slice(0, nl)))
      }
    }
    process.stdin.setEncoding('utf8')
    process.stdin.on('data', onData)
    process.stdin.once('end', () => (text.trim() ? resolve(JSON.parse(text)) : reject(new Error('no job on stdin'))))
  })
}

function parseData(raw) {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

// A numeric id prints as a number; ids are the log's integers (PROTOCOL §6).
function parseId(raw) {
  return /^\d+$/.test(raw) ? Number(raw) : raw || null
}

function follow(job) {
  const es = new EventSource(job.url, {
    // eventsource v3+ takes headers only through a fetch of our own. The library adds
    // Last-Event-ID once it has seen an id; before that, the job's starting id stands in.
    fetch: (input, init) => {
      const headers = { ...init.headers, Authorization: `Bearer ${job.token}` }
      if (job.lastEventId != null && !('Last-Event-ID' in headers)) {
        headers['Last-Event-ID'] = String(job.lastEventId)
      }
      return fetch(input, { ...init, headers })
    },
  })
  es.addEventListener('open', () => emit({ open: true }))
  es.addEventListener('error', (err) => emit({ error: err.message ?? 'error', code: err.code ?? null, readyState: es.readyState }))
  for (const name of EVENT_NAMES) {
    // lastEventId is the stream's last id: for a frame without an id (session.expired) it is
    // the previous event's.
    es.addEventListener(name, (ev) => emit({ id: parseId(ev.lastEventId), event: ev.type, data: parseData(ev.data) }))
  }
  return es
}

async function main() {
  const job = await readJob()
  const es = follow(job)
  const stop = () => {
    es.close()
    process.exit(0)
  }
  process.stdin.once('end', stop)
  process.stdin.once('close', stop)
  process.stdin.resume()
}

main().catch((err) => {
  emit({ error: String(err?.message ?? err), fatal: true })
  process.exit(1)
})
