import {
  createOriginFilter,
  originOf,
  pageHref,
  renewForRetry,
} from '@tokenflight/core'
import type { Session } from '@tokenflight/core'
import {
  UnreplayableBodyError,
  authorization,
  isOneShot,
  untilAborted,
} from './shared'
import type { AuthOptions } from './shared'

/** fetch's init, with the per-request opt-outs of tokenflight. */
export type AuthRequestInit = RequestInit & {
  /** Send no token and never refresh for this request (e.g. the refresh call itself). */
  skipAuth?: boolean | undefined
  /** Send the token, but never refresh or retry this request: its 401 is returned as is. */
  skipAuthRefresh?: boolean | undefined
}

/** A fetch that takes the opt-outs; assignable to `typeof fetch`. */
export type AuthFetch = (
  input: RequestInfo | URL,
  init?: AuthRequestInit,
) => Promise<Response>

export type CreateFetchOptions = AuthOptions & {
  /** The fetch that sends; default globalThis.fetch, read at call time (so mocks apply). */
  fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>
}

/**
 * A fetch that sends the session's access token to the allowed origins, and on 401 refreshes
 * once for the whole burst and sends each request again once, with the same body.
 */
export function createFetch(
  session: Session,
  options: CreateFetchOptions = {},
): AuthFetch {
  const {
    statusCodes = [401],
    shouldRefresh,
    headerName = 'Authorization',
    fetch: send = (input, init) => fetch(input, init),
  } = options
  const allows = createOriginFilter(
    options.allowedOrigins,
    [pageHref()],
    'createFetch needs allowedOrigins outside a browser',
  )

  return async (input, init) => {
    // A Request (of any realm) or a URL string / URL object.
    const request =
      typeof input === 'object' && 'url' in input ? input : undefined
    if (init?.skipAuth || !allows(originOf(request?.url ?? `${input}`)))
      return send(input, init)
    const signal = init?.signal ?? request?.signal
    // A token that needs no wait goes on at once: no extra promise on the happy path.
    if (!session.peekAccessToken?.())
      await untilAborted(session.getAccessToken(), signal)
    // The token and the generation it belongs to, read together from one snapshot.
    const { tokens, generation } = session.getSnapshot()
    if (!tokens) return send(input, init)
    // The caller's init and Request stay untouched: the header goes on a copy.
    const headers = new Headers(init?.headers ?? request?.headers)
    headers.set(headerName, authorization(tokens))
    const body = init?.body ?? undefined
    // A Request's body is read by the first send: a clone keeps one for the retry. Every
    // other body but a stream is sent again as it is (fetch reads a string, Blob, FormData,
    // URLSearchParams or buffer anew each time).
    const replay =
      !init?.skipAuthRefresh && request?.body && body === undefined
        ? request.clone()
        : request
    const response = await send(input, { ...init, headers })
    if (
      init?.skipAuthRefresh ||
      !statusCodes.includes(response.status) ||
      (shouldRefresh &&
        !shouldRefresh(
          response,
          new Request(request?.url ?? input, {
            method: init?.method ?? request?.method ?? 'GET',
            headers,
          }),
        ))
    )
      return response
    // This answer is replaced by the retry's: free its connection.
    response.body?.cancel().catch(() => {})
    const fresh = await renewForRetry(session, generation, (refreshing) =>
      untilAborted(refreshing, signal),
    )
    if (isOneShot(body))
      throw new UnreplayableBodyError(
        'The request body was a stream, read by the first send: it cannot be sent again after the 401. Send the request again with a new body',
      )
    headers.set(headerName, authorization(fresh))
    return send(replay ?? input, { ...init, headers })
  }
}
