import { oauthCode } from './oauthCode'
// Cross-realm brand: `instanceof` fails across bundles and iframes, a registered symbol does not.
const brand = Symbol.for('tokenflight.error')
type ErrorOptions = { cause?: unknown }
type Kinded = { kind?: string }

/** The base of every error tokenflight throws. No token is ever in a message or an own property. */
export class TokenflightError extends Error {
  /**
   * The class's name for `instanceof`, which compares it along the error's class chain: so it
   * holds between the ESM and CJS copies of this file (and two installed copies), where the
   * classes are different objects. A string key, not a symbol: bundlers drop unused classes
   * only when their static keys are plain.
   */
  static readonly kind: string = 'TokenflightError'

  /**
   * `error instanceof RefreshError` holds for a RefreshError made by any copy of tokenflight in
   * the process (ESM and CJS builds, two installed versions), not only this one.
   */
  static override [Symbol.hasInstance]<T>(
    this: abstract new (...args: never[]) => T,
    value: unknown,
  ): value is T {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true
    // A class without its own name (an app's subclass) is checked the ordinary way only.
    const name = Object.hasOwn(this, 'kind') && (this as Kinded).kind
    for (
      let c: Kinded | null =
        name && isTokenflightError(value)
          ? (value.constructor as Kinded)
          : null;
      c;
      c = Object.getPrototypeOf(c)
    )
      if (Object.hasOwn(c, 'kind') && c.kind === name) return true
    return false
  }

  override name = 'TokenflightError'
  readonly [brand] = true

  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
  }
}

/**
 * A refresh failed. `terminal`: the server rejected the refresh token and a new login is needed.
 * `retryable`: a transient failure the session retries (network, timeout, 408, 429, 5xx).
 */
export class RefreshError extends TokenflightError {
  static override readonly kind: string = 'RefreshError'
  override name = 'RefreshError'
  declare readonly terminal: boolean
  declare readonly retryable: boolean
  /** How long the server asked to wait (its `Retry-After`), when it said. */
  declare readonly retryAfterMs: number | undefined
  /** The HTTP status the refresh endpoint answered with, when there was one. */
  declare readonly status: number | undefined
  /** The OAuth2 error code (RFC 6749 §5.2), e.g. 'invalid_grant', when the server sent one. */
  declare readonly code: string | undefined

  constructor(
    message: string,
    options: ErrorOptions & {
      terminal: boolean
      retryable?: boolean
      retryAfterMs?: number | undefined
      status?: number | undefined
      code?: string | undefined
    },
  ) {
    super(message, options)
    this.terminal = options.terminal
    this.retryable = options.retryable ?? !options.terminal
    this.retryAfterMs = options.retryAfterMs
    this.status = options.status
    this.code = options.code
  }
}

/** The refresh did not answer within `refreshTimeoutMs`; transient. */
export class RefreshTimeoutError extends RefreshError {
  static override readonly kind: string = 'RefreshTimeoutError'
  override name = 'RefreshTimeoutError'
  declare readonly timeoutMs: number

  constructor(timeoutMs: number, options?: ErrorOptions) {
    super(`Token refresh timed out after ${timeoutMs} ms`, {
      ...options,
      terminal: false,
    })
    this.timeoutMs = timeoutMs
  }
}

/** A login or refresh answer is not a usable token response. Nothing was stored. */
export class InvalidTokenResponseError extends TokenflightError {
  static override readonly kind: string = 'InvalidTokenResponseError'
  override name = 'InvalidTokenResponseError'
}

/** The session ended (logout or terminal refresh failure) while the caller waited for a token. */
export class SessionExpiredError extends TokenflightError {
  static override readonly kind: string = 'SessionExpiredError'
  override name = 'SessionExpiredError'
}

/** For whoever waited for tokens when the session ended: one message, one place. */
export const sessionEnded = () => new SessionExpiredError('The session ended')

/** The TokenStorage threw; the session keeps working from memory. */
export class StorageError extends TokenflightError {
  static override readonly kind: string = 'StorageError'
  override name = 'StorageError'
}

/**
 * A compare-and-set write found other tokens than it expected: another holder wrote first.
 * Nothing was written; the session re-reads the storage and follows it.
 */
export class StorageConflictError extends StorageError {
  static override readonly kind: string = 'StorageConflictError'
  override name = 'StorageConflictError'
}

/** The fields of an error body that OAuth2HttpError keeps: RFC 6749 §5.2 and FastAPI's string `detail`. */
export type OAuth2ErrorData = {
  error?: string
  error_description?: string
  detail?: string
}

/**
 * A non-2xx answer from an oauth2Client endpoint. Shaped like HTTP client errors (`status`,
 * `data.error`, `headers`) so the session classifies it. `message` adds the server's
 * description (or FastAPI's `detail`), with any token the request carried redacted.
 */
export class OAuth2HttpError extends TokenflightError {
  static override readonly kind: string = 'OAuth2HttpError'
  override name = 'OAuth2HttpError'
  declare readonly status: number
  /** The server's RFC 6749 §5.2 fields and string `detail`, tokens redacted. */
  declare readonly data: OAuth2ErrorData
  /** Only `retry-after`: the other headers may carry a cookie. */
  declare readonly headers: { 'retry-after'?: string }

  constructor(
    endpoint: string,
    status: number,
    data: OAuth2ErrorData,
    options: { headers?: { 'retry-after'?: string }; summary?: string } = {},
  ) {
    const text = data.error_description ?? data.detail ?? options.summary
    super(
      `${endpoint} answered ${status}${oauthCode(data.error) ? ` (${data.error})` : ''}${text ? `: ${text}` : ''}`,
    )
    this.status = status
    this.data = data
    this.headers = options.headers ?? {}
  }
}

/**
 * In a browser, the server answered a redirect to a request that carried the token in a custom
 * header (`headerName`): browsers follow a redirect with such a header to whatever origin it
 * points at (they drop only `Authorization` on the way to another origin), and show the page no
 * `Location` to check first. So the request went out with `redirect: 'manual'`, and the
 * redirect is not followed: send the request to its final URL, or carry the token in
 * `Authorization`.
 */
export class UnsafeRedirectError extends TokenflightError {
  static override readonly kind: string = 'UnsafeRedirectError'
  override name = 'UnsafeRedirectError'

  /** `headerName`: the header that carried the token (a name, never a value). */
  constructor(headerName: string, options?: ErrorOptions) {
    super(
      `A redirect was not followed: in a browser, ${headerName} would go wherever it points`,
      options,
    )
  }
}

export function isTokenflightError(error: unknown): error is TokenflightError {
  return (
    typeof error === 'object' &&
    (error as { [brand]?: unknown } | null)?.[brand] === true
  )
}
