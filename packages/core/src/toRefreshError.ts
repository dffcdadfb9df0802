import { RefreshError, RefreshTimeoutError, isTokenflightError } from './errors'
import { oauthCode } from './oauthCode'
import type { SessionOptions } from './types'

// Duck-typed so that axios, ky, fetch wrappers and OAuth2HttpError all classify alike.
type HttpLike = {
  status?: unknown
  headers?: unknown
  data?: { error?: unknown }
  response?: { status?: unknown; headers?: unknown; data?: { error?: unknown } }
}

/** `Retry-After` in ms (delta-seconds or an HTTP date), from Headers, AxiosHeaders or a plain object. */
const retryAfter = (headers: unknown): number | undefined => {
  const h = headers as
    { get?: (name: string) => unknown; 'retry-after'?: unknown } | undefined
  const value =
    typeof h?.get === 'function' ? h.get('retry-after') : h?.['retry-after']
  if (typeof value !== 'string' || !value) return
  const ms = /^\s*\d+\s*$/.test(value)
    ? Number(value) * 1000
    : Date.parse(value) - Date.now()
  return ms >= 0 ? ms : ms < 0 ? 0 : undefined
}

/**
 * Classifies what the user's `refresh` threw (DESIGN.md, "How the core classifies a failed
 * refresh"): 400, 401, 403 or `invalid_grant` are terminal (`isTerminal` may say otherwise);
 * no status (network), a timeout, 408, 429 and 5xx are retryable, honouring `Retry-After` up
 * to `maxWaitMs`; anything else (422 and the other 4xx, a malformed answer) is neither: one
 * call, the tokens kept.
 */
export function toRefreshError(
  error: unknown,
  isTerminal: SessionOptions['isTerminal'],
  maxWaitMs = 0,
): RefreshError {
  if (error instanceof RefreshTimeoutError) return error
  // A malformed body is a server bug: retrying will not fix it, and the grant may live.
  // By name: a second copy of this package (ESM next to CJS) has its own classes.
  if (isTokenflightError(error) && error.name === 'InvalidTokenResponseError')
    return new RefreshError('Token refresh failed: invalid token response', {
      cause: error,
      terminal: false,
      retryable: false,
    })
  const e = Object(error) as HttpLike
  const s = e.status ?? e.response?.status
  const c = e.response?.data?.error ?? e.data?.error
  const status = typeof s === 'number' ? s : undefined
  // Only a standard code: a server may echo a token in `error`.
  const code = oauthCode(c)
  let terminal =
    status === 400 ||
    status === 401 ||
    status === 403 ||
    code === 'invalid_grant'
  try {
    if (isTerminal) terminal = isTerminal(error)
  } catch {
    // A throwing isTerminal must not wedge the refresh: keep the default classification.
  }
  const retryAfterMs = terminal
    ? undefined
    : retryAfter(e.response?.headers ?? e.headers)
  return new RefreshError(
    `Token refresh failed${status ? ` with ${status}` : ''}${code ? ` (${code})` : ''}`,
    {
      cause: error,
      terminal,
      // 0 or Infinity: no refresh timeout, so any wait the server asks for is within it.
      retryable:
        !terminal &&
        // 400, 401 and 403 get here only when isTerminal called them transient.
        (!status ||
          status > 499 ||
          [400, 401, 403, 408, 429].includes(status)) &&
        !(retryAfterMs! > (maxWaitMs > 0 ? maxWaitMs : Infinity)),
      retryAfterMs,
      status,
      code,
    },
  )
}
