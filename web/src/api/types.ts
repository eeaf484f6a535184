// The protocol's objects as the UI sees them, derived from the generated OpenAPI schema so a
// change to the server's API shows up here as a type error, plus what OpenAPI cannot describe:
// the event stream's names and payloads (PROTOCOL §6).
import type { components } from './schema'

type Schemas = components['schemas']

export type Item = Schemas['Item']
export type ItemDetail = Schemas['ItemDetail']
export type ChunkInfo = Schemas['Chunk']
export type Client = Schemas['Client']
export type Session = Schemas['Session']
export type Config = Schemas['Config']
export type SealedWire = Schemas['Sealed']
export type KDFWire = Schemas['KDF']
export type Problem = Schemas['Problem']

/** The join answer; `created` is true when this join created the session (201). */
export type JoinResult = Schemas['JoinResponse'] & { created: boolean }

/** One page of the item list; nextCursor is null on the last page (the schema says string). */
export interface Page {
  items: Item[]
  nextCursor: string | null
}

export interface ListOptions {
  cursor?: string
  limit?: number
  order?: 'newest' | 'oldest'
}

export interface Announcement {
  contentId: string
  totalChunks: number
  totalSize: number
  chunkSize: number
  metadata: SealedWire
}

export interface ItemPatch {
  pinned?: boolean
  metadata?: SealedWire
}

/** Answer of the long-poll form of the event stream. */
export interface EventsPage {
  events: { id: number; event: string; data: unknown }[]
  nextAfter: number
}

/** Every event name of PROTOCOL §6; EventSource only delivers named events to listeners of that name. */
export const EVENT_NAMES = [
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
] as const

export type EventName = (typeof EVENT_NAMES)[number]

/** The payload of each event (PROTOCOL §6). Receivers ignore fields they do not know. */
export interface EventDataMap {
  'client.joined': { clientId: string; clientName: string }
  'client.left': { clientId: string; clientName: string }
  'content.created': Item
  'content.chunk': { contentId: string; chunkIndex: number; size: number }
  'content.completed': { contentId: string }
  'content.updated': { contentId: string; pinned?: boolean; metadata?: SealedWire }
  'content.deleted': { contentId: string }
  'session.cleared': Record<string, never>
  'session.expired': Record<string, never>
  'session.resync': Record<string, never>
}

/**
 * One event as delivered to subscribers. `id` is 0 for frames without an id (session.expired).
 * Narrow with isEvent(e, 'content.created') to get a typed `data`.
 */
export interface ApiEvent {
  id: number
  type: string
  data: any // JSON from the server; narrow it with isEvent
}

export function isEvent<K extends EventName>(e: ApiEvent, type: K): e is ApiEvent & { type: K; data: EventDataMap[K] } {
  return e.type === type
}
