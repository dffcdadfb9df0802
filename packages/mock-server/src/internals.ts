import type { Context } from './context.ts'
import type { Gates } from './faults.ts'
import type { AuthServer } from './types.ts'

/** What an adapter may reach inside a server made by `createAuthServer` (not public API). */
export type Internals = {
  ctx: Context
  gates: Gates
  /** Releases this holder's held requests, as `reset()` does. */
  releaseHeld(): void
  /** Called after `reset()`; a shared store tells the other tabs. */
  onReset: (() => void) | undefined
  /** The name of the shared state this server moved to, once it has. */
  sharedAs?: string
}

export const internals = new WeakMap<AuthServer, Internals>()
