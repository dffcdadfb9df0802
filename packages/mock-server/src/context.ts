import type { Settings } from './options.ts'
import type { StateStore } from './state.ts'

/** What every part of the server shares: its settings and where its state lives. */
export type Context = {
  readonly settings: Settings
  store: StateStore
}
