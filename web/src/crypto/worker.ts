// The Web Worker entry of the crypto module. It only picks the backend and connects the
// service to the worker's global scope; everything else is in service.ts, where Node tests
// can reach it. WebCrypto when this context has it, else the pure-JS fallback.

import { hasSubtle } from './backend'
import { nobleBackend } from './noble'
import { CryptoService, serve, type Port } from './service'
import { subtleBackend } from './subtle'

const backend = hasSubtle() ? subtleBackend() : nobleBackend()
serve(self as unknown as Port, new CryptoService(backend))
