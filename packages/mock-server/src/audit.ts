import type { Context } from './context.ts'
import type { ServerState } from './state.ts'
import type { AuditEntry, AuthStats } from './types.ts'

// Stats and the audit log. Neither ever holds a token: `family` is an opaque id.

/** Appends a token event to the audit log, keeping the most recent `auditLimit`. */
export function record(
  { settings }: Context,
  state: ServerState,
  entry: Omit<AuditEntry, 'at'>,
): void {
  state.audit.push({ ...entry, at: settings.now() })
  if (state.audit.length > settings.auditLimit)
    state.audit.splice(0, state.audit.length - settings.auditLimit)
}

export const statsSnapshot = (state: ServerState): Readonly<AuthStats> =>
  Object.freeze({ ...state.stats })

export const auditSnapshot = (
  state: ServerState,
): ReadonlyArray<Readonly<AuditEntry>> =>
  Object.freeze(state.audit.map((entry) => Object.freeze({ ...entry })))
