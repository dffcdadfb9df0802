import { sha256, verifyAccessToken } from './accessTokens.ts'
import { authenticate } from './bearer.ts'
import { record } from './audit.ts'
import type { Context } from './context.ts'
import { rejectClient } from './grants.ts'
import { noContent, oauthError, readFields } from './responses.ts'
import type { Family } from './state.ts'
import { familyOfRefresh, revokeAccess, revokeFamily } from './tokenStore.ts'

// Ending sessions: `POST /logout` and RFC 7009 `POST /revoke`.

export async function logoutRoute(
  ctx: Context,
  request: Request,
): Promise<Response> {
  const header = request.headers.get('authorization')
  const body = await readFields(request, { form: true })
  if (!body.ok) return body.response
  const refreshToken = body.fields.refresh_token
  if (refreshToken !== undefined && typeof refreshToken !== 'string')
    return oauthError('invalid_request', 'refresh_token must be a string')
  const hash =
    refreshToken === undefined || refreshToken === ''
      ? undefined
      : await sha256(refreshToken)
  return ctx.store.run(async (state) => {
    const families = new Set<Family>()
    // The refresh token is a credential of its own (as for /revoke): its family is
    // revoked whatever the bearer says, expired or somebody else's.
    const owned = hash === undefined ? undefined : familyOfRefresh(state, hash)
    if (owned) families.add(owned)
    let user = owned?.user
    if (header !== null || refreshToken === undefined) {
      const auth = await authenticate(ctx, state, request)
      if (!auth.ok && families.size === 0) return auth.response
      if (auth.ok) {
        revokeAccess(state, auth.jti)
        user = auth.user
        const family = state.families.get(auth.family)
        if (family) families.add(family)
      }
    }
    for (const family of families) {
      const outcome = revokeFamily(state, family)
        ? 'family_revoked'
        : 'already_revoked'
      record(ctx, state, {
        event: 'logout',
        user: family.user,
        family: family.id,
        outcome,
      })
    }
    if (families.size === 0 && user !== undefined)
      record(ctx, state, { event: 'logout', user, outcome: 'ok' })
    return noContent()
  })
}

export async function revokeRoute(
  ctx: Context,
  request: Request,
): Promise<Response> {
  const body = await readFields(request, { form: true })
  if (!body.ok) return body.response
  const clientError = rejectClient(request, body.fields)
  if (clientError) return clientError
  const { token, token_type_hint: hint } = body.fields
  if (typeof token !== 'string' || token === '')
    return oauthError('invalid_request', 'token is required')
  if (hint !== undefined && typeof hint !== 'string')
    return oauthError('invalid_request', 'token_type_hint must be a string')
  const hash = await sha256(token)
  return ctx.store.run(async (state) => {
    // RFC 7009 §2.2: an unknown or invalid token still gets a 200.
    const family = familyOfRefresh(state, hash)
    if (family) {
      // §2.1: revoking a refresh token revokes the access tokens of the same grant.
      const outcome = revokeFamily(state, family)
        ? 'family_revoked'
        : 'already_revoked'
      record(ctx, state, {
        event: 'revoke',
        user: family.user,
        family: family.id,
        outcome,
      })
      return new Response(null, { status: 200 })
    }
    const access = await verifyAccessToken(ctx, state, token)
    if (access.ok) {
      revokeAccess(state, access.jti)
      record(ctx, state, {
        event: 'revoke',
        user: access.user,
        family: access.family,
        outcome: 'access_token_revoked',
      })
    } else record(ctx, state, { event: 'revoke', outcome: 'unknown_token' })
    return new Response(null, { status: 200 })
  })
}
