import type { Session } from '@tokenflight/core'
import { createAuth } from './shared'
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
  const { fetch: send = (input, init) => fetch(input, init) } = options
  const auth = createAuth(session, options)

  return async (input, init = {}) => {
    // A Request (of any realm), or a URL as a string or a URL object.
    const request = (input as Request).url ? (input as Request) : undefined
    const url = request?.url ?? `${input}`
    const signal = init.signal ?? request?.signal
    let value = init.skipAuth ? undefined : auth.authorize(url, signal)
    if (value instanceof Promise) value = await value
    if (!value) return send(input, init)
    const { body, skipAuthRefresh } = init
    const headers = auth.sign(init.headers ?? request?.headers, value)
    // A Request's body is read by the first send: a clone keeps one for every later send (a
    // redirect that keeps the body, the retry). Any other body but a stream is sent again as
    // it is (fetch reads a string, Blob, FormData, URLSearchParams or buffer anew each time).
    const copy = request?.body && body == null ? request.clone() : undefined
    // A stream (or, in Node, an async iterable) is read once: it cannot be sent again.
    const replayable = !(
      (body as ReadableStream | null | undefined)?.getReader ||
      (body as Partial<AsyncIterable<unknown>> | null | undefined)?.[
        Symbol.asyncIterator
      ]
    )
    // Redirects followed here, the token only to allowed origins (see follows()).
    const follow = auth.follows(init.redirect ?? request?.redirect)
    const go = async (first: RequestInfo | URL, signed: Headers) =>
      auth.answer(
        await send(first, {
          ...init,
          headers: signed,
          ...(follow && { redirect: 'manual' }),
        }),
        url,
        {
          ...init,
          method: init.method ?? request?.method ?? 'GET',
          signal: signal ?? null,
          headers: signed,
        },
        () => {
          if (!replayable) throw new TypeError('A stream body is read once')
          return copy ? copy.clone().arrayBuffer() : (body ?? null)
        },
        send,
        follow,
      )
    const response = await go(input, headers)
    return (
      (!skipAuthRefresh &&
        (await auth.retry(
          headers,
          response,
          signal,
          (retried) => go(copy?.clone() ?? input, retried),
          // For shouldRefresh: the request as it was sent (its URL, init and headers), no body.
          () => new Request(url, { ...init, body: null, headers }),
          replayable,
        ))) ||
      response
    )
  }
}
