import type { Session } from '@tokenflight/core'
import { UnreplayableBodyError, createHookAuth } from './shared'
import type { AuthOptions } from './shared'

type MiddlewareParams = {
  request: Request
  // openapi-fetch puts the client's fetch in the options it hands to middleware.
  readonly options: { fetch?: (request: Request) => Promise<Response> }
}

/** An openapi-fetch Middleware (a structural type: no import of openapi-fetch). */
export type OpenapiFetchAuthMiddleware = {
  onRequest(params: MiddlewareParams): Promise<undefined>
  onResponse(
    params: MiddlewareParams & { response: Response },
  ): Promise<Response | undefined>
}

/**
 * openapi-fetch middleware with the rules of createFetch: `client.use(openapiFetchAuth(session))`.
 * openapi-fetch cannot send a request again from a middleware (openapi-ts #2075), so
 * `onResponse` sends the one retry itself, with the client's fetch, and returns its answer.
 */
export function openapiFetchAuth(
  session: Session,
  options: AuthOptions = {},
): OpenapiFetchAuthMiddleware {
  const auth = createHookAuth(session, options, 'openapiFetchAuth')
  // The fetch reads the body of the request it sends: a copy taken before is the retry's.
  const copies = new WeakMap<Request, Request>()
  return {
    async onRequest({ request }) {
      if ((await auth.authorize(request)) && request.body)
        copies.set(request, request.clone())
      return undefined
    },
    async onResponse({ request, response, options: { fetch: send = fetch } }) {
      const headers = await auth.renew(request, response)
      if (!headers) return undefined
      const copy = copies.get(request) ?? request
      // Another middleware replaced the request after ours: its body is gone.
      if (copy.bodyUsed)
        throw new UnreplayableBodyError(
          'The request body was read by the first send and no copy of it was kept',
        )
      return send(new Request(copy, { headers }))
    },
  }
}
