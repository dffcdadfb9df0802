import type { RefreshError, StorageError, TokenflightError } from './errors'

export type TokenSet = {
  accessToken: string
  /** Absent when the server keeps it in an httpOnly cookie. */
  refreshToken?: string
  /** Epoch ms = receipt time + expires_in; the access token itself is opaque. */
  expiresAt?: number
  /** Defaults to 'Bearer'. */
  tokenType?: string
}

/** 'expired': the refresh failed terminally (e.g. invalid_grant); a new login is needed. */
export type SessionStatus =
  'anonymous' | 'authenticated' | 'refreshing' | 'expired'

export type SessionSnapshot = {
  readonly status: SessionStatus
  readonly tokens: TokenSet | null
  /** +1 every time the tokens change (login, refresh, setTokens, logout, terminal failure). */
  readonly generation: number
  /**
   * Which sign-in the tokens belong to: kept by a refresh (here, or another holder's, adopted
   * from a shared storage), moved by login, setTokens, logout (here, or adopted: a sign-out,
   * and tokens after one). A request is retried only under the identity it was sent with.
   */
  readonly identity: number
  readonly error: TokenflightError | null
  /**
   * With `holdForLogin`: the session expired and the requests that were waiting for its
   * refresh are held until this time (epoch ms) for a sign-in of the same user. Show a sign-in
   * dialog over the page rather than navigating away: what the user was doing is not lost
   * yet. null otherwise.
   */
  readonly heldUntil: number | null
}

/**
 * Where the session keeps its tokens. `get` and `set` are enough for one holder; a storage
 * shared by several holders (tabs, processes, machines) adds `lock` and `watch`, and honours
 * `expected` in `set`, so that one refresh serves them all (see the core README, "Shared sessions").
 */
export type TokenStorage = {
  get(): TokenSet | null | Promise<TokenSet | null>
  /**
   * Writes the tokens; null clears them. With `expected`, a shared storage writes only while
   * it still holds `expected` (the same tokens by `sameTokens`) and otherwise rejects with a
   * `StorageConflictError`, writing nothing: the check and the write are one atomic step
   * (a version or a transaction), so a holder that lost its lock never overwrites newer tokens.
   * A storage that cannot check ignores `expected`.
   */
  set(
    tokens: TokenSet | null,
    options?: StorageSetOptions,
  ): void | Promise<void>
  /**
   * Runs `work` while no other holder of this storage runs its own: exclusive across every
   * holder. Rejects, without running `work`, when `ctx.signal` aborts while it waits. A holder
   * that dies holding the lock must not block the others for good (released on close, or a
   * stale-lock timeout).
   */
  lock?<T>(work: () => Promise<T>, ctx: StorageLockContext): Promise<T>
  /**
   * Calls `onChange` when another holder changed the tokens (refresh, login, logout). The
   * notice carries no token: the session reads the storage. Returns the unsubscribe function.
   */
  watch?(onChange: () => void): () => void
}

export type StorageSetOptions = {
  /** Write only when the storage still holds these tokens (compare-and-set). */
  expected: TokenSet | null
}
export type StorageLockContext = { signal: AbortSignal }

export type RefreshContext = { tokens: TokenSet; signal: AbortSignal }
export type LoginContext = { signal: AbortSignal }
export type LogoutContext = { tokens: TokenSet; signal: AbortSignal }

export type RetryOptions = { attempts: number; baseDelayMs: number }

export type SessionOptions = {
  /** Trades the current tokens for new ones. May return a TokenSet or a raw OAuth2 body. */
  refresh: (ctx: RefreshContext) => Promise<TokenSet | unknown>
  login?: (
    credentials: unknown,
    ctx: LoginContext,
  ) => Promise<TokenSet | unknown>
  /** Best effort: the session is cleared locally whatever this does. */
  logout?: (ctx: LogoutContext) => Promise<void>
  /** Default: memoryStorage(). */
  storage?: TokenStorage
  /** Default 10_000. */
  refreshTimeoutMs?: number
  /** Refresh before use when expiresAt - now < leeway. Default 30_000; 0 = never early. */
  refreshLeewayMs?: number
  /** Transient refresh failures. `attempts` counts retries after the first try. Default { attempts: 2, baseDelayMs: 250 }. */
  retry?: RetryOptions
  /**
   * A login or refresh answer without `expires_in` whose access token is a JWT: take the
   * expiry from the JWT (`exp - iat`, counted from receipt), for scheduling early refreshes
   * only. Default true; false leaves such tokens without `expiresAt` (401s drive the refresh).
   */
  jwtExpiry?: boolean
  /** Overrides the default classification of a failed refresh (see DESIGN.md). */
  isTerminal?: (error: unknown) => boolean
  /**
   * Hold the requests waiting for a refresh that fails terminally, instead of rejecting them,
   * until the same user signs in again (login, setTokens, or another holder of a shared
   * storage), then retry each once. A sign-in of another user, a logout or the deadline
   * rejects them with the failure that held them. Off by default.
   */
  holdForLogin?: HoldForLoginOptions
  /** Injectable clock for tests; epoch ms. */
  now?: () => number
}

export type HoldForLoginOptions = {
  /** How long held requests wait for the sign-in, in ms (1 to 2,147,483,647). */
  timeoutMs: number
  /**
   * Who the tokens belong to: the same value (`Object.is`) is the same user. Default: the
   * `sub` claim of a JWT access token. null or undefined (say, opaque tokens and no `user`)
   * means unknown, and nothing is held: a request is never re-sent as someone else.
   */
  user?: (tokens: TokenSet) => unknown
}

export type SessionEvents = {
  /** New tokens are in place. Carries no token: read the snapshot if you need them. */
  refreshed: { generation: number; expiresAt: number | undefined }
  /**
   * Tokens another holder of a shared storage put there (its refresh, login or logout) are
   * now this session's, taken without a network call. `signedIn: false`: it signed out.
   */
  adopted: {
    generation: number
    expiresAt: number | undefined
    signedIn: boolean
  }
  /** The refresh failed terminally; the tokens are gone and a new login is needed. Fires once per failure. */
  expired: { error: RefreshError }
  /** logout() cleared the session. */
  loggedOut: { generation: number }
  /** A refresh() failed for good (after its retries), terminal or not. */
  refreshFailed: { error: RefreshError }
  /** The TokenStorage threw; the session carries on from memory. */
  storageError: { error: StorageError; operation: StorageOperation }
  /** The `logout` option threw or timed out. logout() itself never rejects: the local session is gone anyway. */
  logoutFailed: { error: TokenflightError }
}
export type SessionEvent = keyof SessionEvents
export type StorageOperation = 'get' | 'set' | 'lock' | 'watch'

export interface Session {
  /** The same object until something changes. */
  getSnapshot(): SessionSnapshot
  /** useSyncExternalStore-compatible. */
  subscribe(listener: () => void): () => void
  /** Waits for an in-flight refresh; refreshes first inside the leeway. null when anonymous or expired. */
  getAccessToken(): Promise<string | null>
  /**
   * The access token when it can be used right now: no refresh in flight or due, nothing
   * to hydrate; else null, and getAccessToken() is the way. Lets a client skip a promise
   * per request. Optional, so that a hand-written Session need not have it.
   */
  peekAccessToken?(): string | null
  /**
   * How the one retry after a refresh went, from a binding: `refused` when the server
   * rejected `tokens` again (a 401). The next refresh of refused tokens waits, longer each
   * time in a row; an accepted retry ends that. Optional, so that a hand-written Session
   * need not have it; without reports a session never waits to refresh.
   */
  reportRetry?(tokens: TokenSet, refused: boolean): void
  /** Single-flight: concurrent callers share one call. */
  refresh(): Promise<TokenSet>
  setTokens(tokens: TokenSet | unknown | null): Promise<void>
  login(credentials: unknown): Promise<TokenSet>
  /** Always clears locally; a late refresh result is discarded. */
  logout(): Promise<void>
  on<E extends SessionEvent>(
    event: E,
    handler: (e: SessionEvents[E]) => void,
  ): () => void
}
