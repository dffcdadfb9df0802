import {
  TokenflightError,
  createOriginFilter,
  originOf,
  pageHref,
  renewForRetry,
} from '@tokenflight/core'
import type { Session, SessionSnapshot, TokenSet } from '@tokenflight/core'

/** What every binding of this package takes besides the session. */
export type AuthOptions = {
  /**
   * Where tokens may go: origins (`https://api.example.com`; a path is ignored) or RegExps
   * tested against the origin string. Default: in a browser, the page's origin; outside a
   * browser there is no default, and creating the binding without it throws.
   */
  allowedOrigins?: Array<string | RegExp>
  /** Response statuses that mean "the token was not accepted". Default [401]. */
  statusCodes?: number[]
  /**
   * Further filter over those responses; default: refresh for every status in statusCodes.
   * `request` is the request as it was sent (for createFetch, without its body).
   */
  shouldRefresh?: (response: Response, request: Request) => boolean
  /** Default 'Authorization'. */
  headerName?: string
}

/**
 * A request got a 401 but its body was a one-shot stream, read by the first send: it cannot
 * be sent again, and an empty resend would be worse. The session has been refreshed by then:
 * build the request again (a new stream) and send it.
 */
export class UnreplayableBodyError extends TokenflightError {
  override name = 'UnreplayableBodyError'
}

/** The header value for `tokens`. */
export const authorization = (tokens: TokenSet) =>
  `${tokens.tokenType ?? 'Bearer'} ${tokens.accessToken}`

/** Rejects with the signal's reason, as fetch does, when `signal` aborts first. */
export const untilAborted = <T>(
  promise: Promise<T>,
  signal: AbortSignal | null | undefined,
): Promise<T> =>
  // Nothing to race: parked requests cost no extra promise.
  signal
    ? new Promise<T>((resolve, reject) => {
        const abort = () => reject(signal.reason)
        if (signal.aborted) abort()
        signal.addEventListener('abort', abort)
        promise
          .then(resolve, reject)
          .finally(() => signal.removeEventListener('abort', abort))
      })
    : promise

/**
 * The rules every binding of this package applies: each one only adapts them to its client.
 * Bindings hand it the headers a request was sent with: ky and openapi-fetch show their
 * hooks after the send a copy of the request, so its header value is what tells which
 * tokens (which snapshot: generation and error) it carried. A value sent several times maps
 * to the last snapshot it went out with.
 */
export function createAuth(session: Session, options: AuthOptions) {
  const {
    statusCodes = [401],
    shouldRefresh,
    headerName = 'Authorization',
  } = options
  const allows = createOriginFilter(
    options.allowedOrigins,
    [pageHref()],
    // No page outside a browser, so no default: the binding would send no token at all.
    '@tokenflight/fetch',
    session,
  )
  // The header values this binding sent, each with the last snapshot it was read from.
  const issued = new Map<string | null, SessionSnapshot>()

  // The header value of the session's tokens now, recorded with its snapshot.
  const current = () => {
    const snapshot = session.getSnapshot()
    const { tokens } = snapshot
    if (!tokens) return
    const value = authorization(tokens)
    // A few generations back are enough for the late 401s.
    if (issued.size > 8) issued.clear()
    issued.set(value, snapshot)
    return value
  }

  /** A copy of `headers` (the caller's stay untouched) that carries `value`. */
  const sign = (headers: HeadersInit | undefined, value: string) => {
    const signed = new Headers(headers)
    signed.set(headerName, value)
    return signed
  }

  /**
   * The header value for a request to `url`: at once when the token needs no wait (no
   * promise on the happy path), else once getAccessToken() has it; undefined when no
   * token goes there (another origin, or no session).
   */
  const authorize = (
    url: string,
    signal: AbortSignal | null | undefined,
  ): string | undefined | Promise<string | undefined> =>
    !allows(originOf(url))
      ? undefined
      : session.peekAccessToken?.()
        ? current()
        : untilAborted(session.getAccessToken(), signal).then(current)

  /**
   * After the send of a request with the headers `sent`: when the response rejects a token
   * of this binding, refreshes once for the burst (or not: renewForRetry), then calls
   * `resend` with the headers for the one retry. Undefined: the response stands.
   * `request` (for shouldRefresh) is built only when needed; `replayable` false: the body
   * is gone, and the retry fails with UnreplayableBodyError instead of going out.
   */
  const retry = async (
    sent: Headers,
    response: Response,
    signal: AbortSignal | null | undefined,
    resend: (headers: Headers) => Promise<Response>,
    request: () => Request,
    replayable = true,
  ): Promise<Response | undefined> => {
    const before = issued.get(sent.get(headerName))
    if (
      !before ||
      !statusCodes.includes(response.status) ||
      (shouldRefresh && !shouldRefresh(response, request()))
    )
      return
    // This answer is replaced by the retry's: free its connection (an unlocked body's
    // cancel does not reject).
    void response.body?.cancel()
    const tokens = await renewForRetry(session, before, (refreshing) =>
      untilAborted(refreshing, signal),
    )
    if (!replayable)
      throw new UnreplayableBodyError('A stream body is read once')
    return resend(sign(sent, authorization(tokens)))
  }

  return {
    authorize,
    retry,
    sign,

    /** authorize() for a hook before the send: the token goes on `request` itself. */
    async authorizeRequest(request: Request) {
      const value = await authorize(request.url, request.signal)
      if (value) request.headers.set(headerName, value)
      return value
    },

    /** retry() for a hook after the send; `copy`: the request with its body unread. */
    retryRequest: (
      request: Request,
      response: Response,
      send: (request: Request) => Promise<Response>,
      copy = request,
    ) =>
      retry(
        request.headers,
        response,
        request.signal,
        (headers) => send(new Request(copy, { headers })),
        () => request,
        // The body went with the first send and no copy was kept (a hook replaced the request).
        !copy.bodyUsed,
      ),
  }
}
