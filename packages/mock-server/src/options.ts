import type { AuthServerOptions, AuthUser, ReusePolicy } from './types.ts'

export const DEFAULT_USER: Readonly<AuthUser> = Object.freeze({
  username: 'demo',
  password: 'demo-password',
})

/** A reuse policy with its interval in milliseconds. */
export type Reuse =
  | { kind: 'strict' }
  | { kind: 'interval'; intervalMs: number }
  | { kind: 'parent-of-active' }

export type Settings = {
  users: ReadonlyMap<string, string>
  accessTtlMs: number
  refreshTtlMs: number
  reuse: Reuse
  /** HS256 key; a shared browser store may swap it for the one every tab uses. */
  key: Uint8Array
  /** Whether `key` came from the `secret` option (it then wins over a stored key). */
  explicitKey: boolean
  now: () => number
  auditLimit: number
  seedTodos: boolean
}

function positive(
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`${name} must be a finite number >= 0`)
  return value
}

function resolveReuse(
  reuse: ReusePolicy | undefined,
  reuseIntervalSec: number | undefined,
): Reuse {
  if (reuse !== undefined && reuseIntervalSec !== undefined)
    throw new RangeError('pass reuse or reuseIntervalSec, not both')
  if (reuse === undefined || reuse === 'strict') {
    const seconds = positive('reuseIntervalSec', reuseIntervalSec, 0)
    return seconds === 0
      ? { kind: 'strict' }
      : { kind: 'interval', intervalMs: seconds * 1000 }
  }
  if (reuse === 'parent-of-active') return { kind: reuse }
  if (typeof reuse === 'object' && reuse !== null && 'intervalSec' in reuse) {
    const seconds = positive('reuse.intervalSec', reuse.intervalSec, 0)
    return seconds === 0
      ? { kind: 'strict' }
      : { kind: 'interval', intervalMs: seconds * 1000 }
  }
  throw new RangeError(
    "reuse must be 'strict', 'parent-of-active' or { intervalSec }",
  )
}

export function resolveOptions(options: AuthServerOptions): Settings {
  const users = options.users ?? [DEFAULT_USER]
  const secret = options.secret ?? crypto.getRandomValues(new Uint8Array(32))
  return {
    users: new Map(users.map((u) => [u.username, u.password])),
    accessTtlMs:
      positive('accessTokenTtlSec', options.accessTokenTtlSec, 900) * 1000,
    refreshTtlMs:
      positive('refreshTokenTtlSec', options.refreshTokenTtlSec, 604_800) *
      1000,
    reuse: resolveReuse(options.reuse, options.reuseIntervalSec),
    key: typeof secret === 'string' ? new TextEncoder().encode(secret) : secret,
    explicitKey: options.secret !== undefined,
    now: options.now ?? Date.now,
    auditLimit: options.auditLimit ?? 1000,
    seedTodos: options.seedTodos ?? true,
  }
}
