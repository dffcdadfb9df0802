import {
  TokenflightError,
  createOriginFilter,
  originOf,
  pageHref,
  renewForRetry,
} from '@tokenflight/core'
import type { Session, TokenSet } from '@tokenflight/core'

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
 * A request whose body was a one-shot stream got a 401: it cannot be sent again, and an
 * empty resend would be worse. The session has been refreshed by then: build the request
 * again (a new stream) and send it.
 */
export class UnreplayableBodyError extends TokenflightError {
  override name = 'UnreplayableBodyError'
}

/** The header value for `tokens`. */
export const authorization = (tokens: TokenSet) =>
  `${tokens.tokenType ?? 'Bearer'} ${tokens.accessToken}`

/** Rejects with the signal's reason, as fetch does, when `signal` aborts first. */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | null | undefined,
): Promise<T> {
  // Nothing to race: parked requests cost no extra promise.
  if (!signal) return promise
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason)
    if (signal.aborted) abort()
    signal.addEventListener('abort', abort)
    promise
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', abort))
  })
}

/** Streams and async iterables can be read once; every other body kind can be sent again. */
export const isOneShot = (body: unknown) =>
  typeof body === 'object' &&
  body !== null &&
  ('getReader' in body || Symbol.asyncIterator in body)

/**
 * The rules of createFetch for clients that call hooks around their own send (ky,
 * openapi-fetch): the token goes on the request before it is sent, and a rejected request is
 * answered with the headers for its one retry. Which tokens a request carried is read from
 * its header, since such clients hand the hook after the send a copy of the request.
 */
export function createHookAuth(
  session: Session,
  options: AuthOptions,
  name: string,
) {
  const {
    statusCodes = [401],
    shouldRefresh,
    headerName = 'Authorization',
  } = options
  const allows = createOriginFilter(
    options.allowedOrigins,
    [pageHref()],
    `${name} needs allowedOrigins outside a browser`,
  )
  // The header values this binding set, each with the generation of its tokens.
  const issued = new Map<string, number>()

  return {
    /** Puts the token on `request`, after waiting for it when it needs a wait; true if it did. */
    async authorize(request: Request): Promise<boolean> {
      if (!allows(originOf(request.url))) return false
      if (!session.peekAccessToken?.())
        await untilAborted(session.getAccessToken(), request.signal)
      const { tokens, generation } = session.getSnapshot()
      if (!tokens) return false
      const value = authorization(tokens)
      if (!issued.has(value)) {
        // One entry per generation; the oldest go first.
        if (issued.size >= 8) issued.delete(issued.keys().next().value!)
        issued.set(value, generation)
      }
      request.headers.set(headerName, value)
      return true
    },

    /**
     * For a rejected request that carried a token of this binding: refreshes (or not, see
     * renewForRetry) and resolves with the headers of its one retry. Undefined: the
     * response stands.
     */
    async renew(
      request: Request,
      response: Response,
    ): Promise<Headers | undefined> {
      const generation = issued.get(request.headers.get(headerName) ?? '')
      if (
        generation === undefined ||
        !statusCodes.includes(response.status) ||
        (shouldRefresh && !shouldRefresh(response, request))
      )
        return
      const tokens = await renewForRetry(session, generation, (refreshing) =>
        untilAborted(refreshing, request.signal),
      )
      const headers = new Headers(request.headers)
      headers.set(headerName, authorization(tokens))
      return headers
    },
  }
}
