import { verifyAccessToken } from './accessTokens.ts'
import type { Context } from './context.ts'
import { authenticationRequired, invalidToken } from './responses.ts'
import type { ServerState } from './state.ts'

export type Authenticated = {
  ok: true
  user: string
  jti: string
  family: string
}

/** RFC 6750 bearer check of `request` against `state`: the caller or the 401 to send. */
export async function authenticate(
  ctx: Context,
  state: ServerState,
  request: Request,
): Promise<Authenticated | { ok: false; response: Response }> {
  const header = request.headers.get('authorization')
  const match = header === null ? null : /^bearer[ ]+(\S+)\s*$/i.exec(header)
  if (header === null || !/^bearer(\s|$)/i.test(header))
    return { ok: false, response: authenticationRequired() }
  if (!match)
    return {
      ok: false,
      response: invalidToken('malformed Authorization header'),
    }
  const result = await verifyAccessToken(ctx, state, match[1]!)
  return result.ok
    ? result
    : { ok: false, response: invalidToken(result.description) }
}

/**
 * Serves a protected resource: 401 without a valid bearer token, else `serve(user)`.
 * Counts `unauthorized` and `served` (2xx).
 */
export function protectedResource(
  ctx: Context,
  request: Request,
  serve: (user: string, state: ServerState) => Response | Promise<Response>,
): Promise<Response> {
  return ctx.store.run(async (state) => {
    const auth = await authenticate(ctx, state, request)
    if (!auth.ok) {
      state.stats.unauthorized++
      return auth.response
    }
    const response = await serve(auth.user, state)
    if (response.status >= 200 && response.status < 300) state.stats.served++
    return response
  })
}
