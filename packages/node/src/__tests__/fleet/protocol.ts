// Messages between the fleet's parent (fleet.ts) and its workers (worker.ts).

export type WorkerConfig = {
  id: number
  /** The mock auth server, e.g. http://127.0.0.1:1234. */
  api: string
  /** A module exporting `createStorage(storage): Promise<TokenStorage>`; none: memory. */
  storageModule?: string
  storage?: unknown
  /** Seed tokens for a worker without a shared storage (each holds its own copy). */
  tokens?: unknown
  refreshTimeoutMs: number
  refreshLeewayMs?: number
  retry?: { attempts: number; baseDelayMs: number }
  skewMs?: number
}

export type FromParent =
  | { type: 'init'; config: WorkerConfig }
  | { type: 'burst'; seq: number; n: number }
  | { type: 'logout'; seq: number }
  | { type: 'skew'; seq: number; ms: number }
  | { type: 'snapshot'; seq: number }

export type WorkerEvent = {
  type: 'event'
  event: string
  operation?: string
  error?: string
  signedIn?: boolean
  /** performance.now() of the parent when the event arrived. */
  at?: number
  /** When it happened in the worker (epoch ms, high resolution: comparable across processes). */
  time?: number
}

export type LockTiming = {
  type: 'lock'
  /** When the refresh's compare-and-set write started (epoch ms, high resolution); 0: none. */
  writtenAt: number
  waitMs: number
  holdMs: number
  networkMs: number
  refreshed: boolean
}

export type BurstResult = {
  type: 'burst'
  seq: number
  served: number
  errors: string[]
  /** Storage reads during the burst. */
  gets: number
  ms: number
}

export type Snapshot = {
  type: 'snapshot'
  seq: number
  status: string
  generation: number
  networkRefreshes: number
  gets: number
}

export type ToParent =
  | { type: 'ready'; status: string }
  | { type: 'crash'; error: string }
  | { type: 'done'; seq: number }
  | WorkerEvent
  | LockTiming
  | BurstResult
  | Snapshot
