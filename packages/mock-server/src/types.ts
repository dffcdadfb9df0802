/** Endpoints a fault can target; `'any'` matches every non-admin route. */
export type Endpoint =
  'token' | 'refresh' | 'logout' | 'revoke' | 'me' | 'todos' | 'any'

export type FaultKind = Fault['kind']

/**
 * A misbehaviour queued for the next `times` calls (default 1) of an endpoint.
 * Faults are consumed in the order they were injected; one fault per call.
 */
export type Fault = { endpoint: Endpoint; times?: number } & (
  | { kind: 'delay'; ms: number }
  | { kind: 'gate'; until: Promise<unknown> }
  | { kind: 'hang' }
  | { kind: 'network-error' }
  | { kind: 'status'; status: number; body?: unknown }
  | { kind: 'malformed'; body?: string }
  | { kind: 'drop-after-rotate' }
)

export type AuthUser = { username: string; password: string }

/**
 * What the server does with a refresh token that was already rotated out:
 * - `'strict'`: every replay revokes the whole family (RFC 9700 §4.14.2);
 * - `{ intervalSec }`: Auth0/Okta-like grace, the immediate parent may be replayed for
 *   `intervalSec` after its first rotation and gets a new sibling child;
 * - `'parent-of-active'`: Supabase-like, the parent of the family's active token gets that
 *   already-issued child back (with a new access token), for as long as the child is unused.
 */
export type ReusePolicy =
  'strict' | { intervalSec: number } | 'parent-of-active'

export type AuthServerOptions = {
  /** Default: `[{ username: 'demo', password: 'demo-password' }]`. */
  users?: AuthUser[]
  /** Access token lifetime in seconds. Default 900. */
  accessTokenTtlSec?: number
  /** Absolute lifetime of a refresh token family in seconds; rotation never extends it. Default 604 800. */
  refreshTokenTtlSec?: number
  /** What a replayed refresh token gets. Default `'strict'`. */
  reuse?: ReusePolicy
  /** Shorthand for `reuse: { intervalSec }`; 0 is `'strict'`. Do not pass both. */
  reuseIntervalSec?: number
  /** HS256 key. Default: 256 random bits per server. */
  secret?: Uint8Array | string
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number
  /** Most recent audit entries kept. Default 1000. */
  auditLimit?: number
  /** Seed two to-dos for every user on first use (nice for a demo). Default true. */
  seedTodos?: boolean
}

export type AuthStats = {
  /** Successful logins. */
  logins: number
  failedLogins: number
  /** Successful refresh grants (including ones whose answer a fault dropped). */
  refreshes: number
  failedRefreshes: number
  /** Refresh tokens rotated out (a grace-period replay issues a token but rotates nothing). */
  rotations: number
  reuseDetections: number
  revokedFamilies: number
  /** 401s served by protected resources (`/me`, `/todos`). */
  unauthorized: number
  /** 2xx answers of protected resources (`/me`, `/todos`). */
  served: number
  /** Injected faults applied. */
  faults: number
}

export type AuditEvent =
  | 'login'
  | 'refresh'
  | 'reuse-detected'
  | 'logout'
  | 'revoke'
  | 'expire-access-tokens'
  | 'revoke-sessions'
  | 'fault'

/** One token event. Never holds a token: `family` is an opaque family id. */
export type AuditEntry = {
  at: number
  event: AuditEvent
  user?: string
  family?: string
  outcome: string
}

export type Todo = { id: number; title: string; done: boolean }

export interface AuthServer {
  /** A snapshot of the counters. */
  readonly stats: Readonly<AuthStats>
  /** A snapshot of the most recent token events, oldest first. */
  readonly audit: ReadonlyArray<Readonly<AuditEntry>>
  inject(fault: Fault): void
  /** Every access token issued so far is rejected as expired from now on. */
  expireAccessTokens(): void
  /** Revokes every refresh family (of `username`, or of everyone) and their access tokens. */
  revokeSessions(username?: string): void
  /** Forgets tokens, families, stats, faults, audit and to-dos; users and the key stay. */
  reset(): void
  /**
   * The whole server as one fetch-style function. A network error is a
   * `Response.error()` (`type === 'error'`). `pathname` overrides the URL's
   * path for routing (adapters mounted under a prefix use it).
   */
  handle(request: Request, options?: { pathname?: string }): Promise<Response>
}
