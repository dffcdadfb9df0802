import { isTokenflightError } from '@tokenflight/core'
import type { Session } from '@tokenflight/core'
import { createAuth } from './shared'
import type { AuthOptions } from './shared'

/**
 * What the hooks read of ky's options (a structural type: no import of ky). The opt-outs go
 * in ky's `context`: `ky.get(url, { context: { skipAuth: true } })`.
 */
export type KyHookOptions = {
  context?: { skipAuth?: unknown; skipAuthRefresh?: unknown }
  redirect?: RequestRedirect
  // ky puts its fetch (yours, or globalThis.fetch) in the options it hands to hooks.
  fetch?: (request: Request) => Promise<Response>
}

export type KyAuthHooks = {
  beforeRequest: Array<
    (request: Request, options: KyHookOptions) => Promise<Request | undefined>
  >
  afterResponse: Array<
    (
      request: Request,
      options: KyHookOptions,
      response: Response,
    ) => Promise<Response | undefined> | undefined
  >
  beforeRetry: Array<(state: { error: unknown }) => void>
}

/**
 * Hooks that give ky the rules of createFetch: spread them into ky's `hooks`
 * (`ky.create({ hooks: kyAuth(session) })`, or merged with yours).
 */
export function kyAuth(
  session: Session,
  options: AuthOptions = {},
): KyAuthHooks {
  const auth = createAuth(session, options)
  return {
    beforeRequest: [
      // With a custom headerName, which fetch keeps on a redirect to another origin: the
      // request that goes out, with redirect 'manual', its redirects followed by afterResponse.
      // ky runs no beforeRequest hook after one that returns a request: this one goes last.
      async (request, { context }) =>
        !context?.skipAuth &&
        (await auth.authorizeRequest(request)) &&
        auth.follows(request.redirect, true)
          ? new Request(request, { redirect: 'manual' })
          : undefined,
    ],
    afterResponse: [
      // ky hands this hook a copy of the request it sent, body unread: the retry sends it,
      // here rather than through ky.retry(), so that it depends on no retry limit of ky's
      // and its answer is final (no second refresh for it).
      (request, { context, fetch: send = fetch, redirect }, response) =>
        auth.retryRequest(
          request,
          response,
          send,
          // Sent with 'manual' by beforeRequest, not by the caller.
          request.redirect === 'manual' && auth.follows(redirect, true),
          request,
          !context?.skipAuthRefresh,
        ),
    ],
    beforeRetry: [
      ({ error }) => {
        // ky retries whatever a hook throws as if the network had failed; a refresh that
        // failed (or a session that ended) is an answer, not a network failure.
        if (isTokenflightError(error)) throw error
      },
    ],
  }
}
