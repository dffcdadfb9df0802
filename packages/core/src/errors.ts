// Cross-realm brand: `instanceof` fails across bundles and iframes, a registered symbol does not.
const brand = Symbol.for('tokenflight.error')

type ErrorOptions = { cause?: unknown }

/** The base of every error tokenflight throws. No token is ever in a message or an own property. */
export class TokenflightError extends Error {
  override name = 'TokenflightError'
  readonly [brand] = true

  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
  }
}

/** A refresh failed. `terminal`: the server rejected the refresh token and a new login is needed. */
export class RefreshError extends TokenflightError {
  override name = 'RefreshError'
  declare readonly terminal: boolean
  /** The HTTP status the refresh endpoint answered with, when there was one. */
  declare readonly status: number | undefined
  /** The OAuth2 error code (RFC 6749 §5.2), e.g. 'invalid_grant', when the server sent one. */
  declare readonly code: string | undefined

  constructor(
    message: string,
    options: ErrorOptions & {
      terminal: boolean
      status?: number | undefined
      code?: string | undefined
    },
  ) {
    super(message, options)
    this.terminal = options.terminal
    this.status = options.status
    this.code = options.code
  }
}

/** The refresh did not answer within `refreshTimeoutMs`; transient. */
export class RefreshTimeoutError extends RefreshError {
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
  override name = 'InvalidTokenResponseError'
}

/** The session ended (logout or terminal refresh failure) while the caller waited for a token. */
export class SessionExpiredError extends TokenflightError {
  override name = 'SessionExpiredError'
}

/** For whoever waited for tokens when the session ended: one message, one place. */
export const sessionEnded = () => new SessionExpiredError('The session ended')

/** The TokenStorage threw; the session keeps working from memory. */
export class StorageError extends TokenflightError {
  override name = 'StorageError'
}

/**
 * A compare-and-set write found other tokens than it expected: another holder wrote first.
 * Nothing was written; the session re-reads the storage and follows it.
 */
export class StorageConflictError extends StorageError {
  override name = 'StorageConflictError'
}

/** A non-2xx answer from an oauth2Client endpoint. Shaped like HTTP client errors (`status`, `data.error`) so the session classifies it. */
export class OAuth2HttpError extends TokenflightError {
  override name = 'OAuth2HttpError'
  declare readonly status: number
  /** The server's RFC 6749 §5.2 body fields, never a token. */
  declare readonly data: { error?: string; error_description?: string }

  constructor(
    endpoint: string,
    status: number,
    data: { error?: string; error_description?: string },
  ) {
    super(
      `${endpoint} answered ${status}${data.error ? ` (${data.error})` : ''}`,
    )
    this.status = status
    this.data = data
  }
}

export function isTokenflightError(error: unknown): error is TokenflightError {
  return (
    typeof error === 'object' &&
    (error as { [brand]?: unknown } | null)?.[brand] === true
  )
}
