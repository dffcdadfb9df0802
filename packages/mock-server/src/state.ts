import type { AuditEntry, AuthStats, Endpoint, Fault, Todo } from './types.ts'

// Everything the server remembers, as plain data: Maps, Sets, arrays and numbers only,
// so that a browser can keep it in IndexedDB (structured clone) and share it between tabs.

export type AccessRecord = {
  sub: string
  family: string
  expiresAt: number
  revoked: boolean
}

export type Family = {
  id: string
  user: string
  expiresAt: number
  revoked: boolean
  jtis: Set<string>
}

export type RefreshRecord = {
  family: string
  parent: string | undefined
  children: string[]
  rotatedAt: number | undefined
  /**
   * `'parent-of-active'` only: the child this token was rotated into, in plain text, kept
   * while that child is unused so that a replay can hand it back. Dropped once it rotates.
   */
  activeChild?: string
}

/** A fault as stored: a gate's promise stays in memory, the state keeps its id. */
export type StoredFault =
  | Exclude<Fault, { kind: 'gate' }>
  | { endpoint: Endpoint; times?: number; kind: 'gate'; gate: string }

export type QueuedFault = { fault: StoredFault; remaining: number }

export type ServerState = {
  stats: AuthStats
  audit: AuditEntry[]
  faults: QueuedFault[]
  access: Map<string, AccessRecord>
  families: Map<string, Family>
  /** By SHA-256 of the refresh token: the tokens themselves are never kept. */
  refresh: Map<string, RefreshRecord>
  todos: Map<string, Todo[]>
  nextTodoId: number
  /** Access-record count at which expired records are dropped next. */
  pruneAt: number
}

export const ACCESS_RECORD_SOFT_LIMIT = 50_000

export const emptyStats = (): AuthStats => ({
  logins: 0,
  failedLogins: 0,
  refreshes: 0,
  failedRefreshes: 0,
  rotations: 0,
  reuseDetections: 0,
  revokedFamilies: 0,
  unauthorized: 0,
  served: 0,
  faults: 0,
})

export function createState(): ServerState {
  return {
    stats: emptyStats(),
    audit: [],
    faults: [],
    access: new Map(),
    families: new Map(),
    refresh: new Map(),
    todos: new Map(),
    nextTodoId: 1,
    pruneAt: ACCESS_RECORD_SOFT_LIMIT,
  }
}

/** Forgets everything, in place (a shared store saves the same object). */
export function clearState(state: ServerState): void {
  Object.assign(state, createState())
}

/**
 * Where the state lives. `run` gives `work` the current state and keeps what it changed;
 * a shared store runs it under an exclusive lock (load, work, save). `apply` changes the
 * state for a synchronous test hook; `peek` is the last state this holder saw.
 */
export interface StateStore {
  run<T>(work: (state: ServerState) => T | Promise<T>): Promise<T>
  apply(work: (state: ServerState) => void): void
  peek(): ServerState
}

/** The state in this process's memory: no lock, so requests interleave as they await. */
export function memoryStore(state: ServerState = createState()): StateStore {
  return {
    run: async (work) => work(state),
    apply: (work) => work(state),
    peek: () => state,
  }
}
