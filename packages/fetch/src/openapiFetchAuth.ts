import type { Session } from '@tokenflight/core'
import { createAuth } from './shared'
import type { AuthOptions } from './shared'

type MiddlewareParams = {
  request: Request
  // openapi-fetch puts the client's fetch in the options it hands to middleware.
  readonly options: { fetch: (request: Request) => Promise<Response> }
}

/** An openapi-fetch Middleware (a structural type: no import of openapi-fetch). */
export type OpenapiFetchAuthMiddleware = {
  onRequest(params: MiddlewareParams): Promise<Request | undefined>
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
  const auth = createAuth(session, options)
  // The fetch reads the body of the request it sends: a copy taken before is the retry's.
  const copies = new WeakMap<Request, Request>()
  // Requests that carry the token and go out with redirect 'manual' in place of 'follow': their
  // redirects are followed by onResponse (see the README).
  const manual = new WeakSet<Request>()
  return {
    async onRequest({ request }) {
      if (!(await auth.authorizeRequest(request))) return
      const sent = auth.follows(request.redirect)
        ? new Request(request, { redirect: 'manual' })
        : request
      if (sent !== request) manual.add(sent)
      if (sent.body) copies.set(sent, sent.clone())
      return sent === request ? undefined : sent
    },
    onResponse: ({ request, response, options: client }) =>
      auth.retryRequest(
        request,
        response,
        client.fetch,
        manual.has(request),
        copies.get(request),
      ),
  }
}
