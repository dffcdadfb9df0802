import { prepareTokens, sha256, type Prepared } from './accessTokens.ts'
import { record } from './audit.ts'
import type { Context } from './context.ts'
import { oauthError, readFields, tokenResponse } from './responses.ts'
import type { ServerState } from './state.ts'
import {
  exchange,
  familyOfRefresh,
  startFamily,
  type Exchanged,
  type Issued,
} from './tokenStore.ts'

// The OAuth2 grants: `POST /token` (password, or refresh_token as in RFC 6749 §6) and
// `POST /refresh`. The token store decides; this file reads requests and writes answers.

export async function tokenRoute(
  ctx: Context,
  request: Request,
): Promise<Response> {
  const body = await readFields(request, { form: true })
  if (!body.ok) return body.response
  const { fields } = body
  const clientError = rejectClient(request, fields)
  if (clientError) return clientError
  const grantType = fields.grant_type
  if (grantType === 'refresh_token') return refreshGrant(ctx, fields)
  if (grantType !== undefined && grantType !== 'password' && grantType !== '')
    return oauthError(
      'unsupported_grant_type',
      'grant_type must be "password" or "refresh_token"',
    )
  const { username, password } = fields
  if (typeof username !== 'string' || username === '')
    return oauthError('invalid_request', 'username is required')
  if (typeof password !== 'string' || password === '')
    return oauthError('invalid_request', 'password is required')
  const { users } = ctx.settings
  if (users.get(username) !== password)
    return ctx.store.run((state) => {
      state.stats.failedLogins++
      record(ctx, state, {
        event: 'login',
        ...(users.has(username) ? { user: username } : {}),
        outcome: 'invalid_credentials',
      })
      return oauthError('invalid_grant', 'invalid username or password')
    })
  const prepared = await prepareTokens(ctx, username)
  return ctx.store.run((state) => {
    const family = startFamily(ctx, state, username, prepared)
    state.stats.logins++
    record(ctx, state, {
      event: 'login',
      user: username,
      family: family.id,
      outcome: 'ok',
    })
    return tokenAnswer(ctx, prepared)
  })
}

export async function refreshRoute(
  ctx: Context,
  request: Request,
): Promise<Response> {
  const body = await readFields(request, { form: true })
  if (!body.ok) return body.response
  const clientError = rejectClient(request, body.fields)
  if (clientError) return clientError
  const grantType = body.fields.grant_type
  if (grantType !== undefined && grantType !== 'refresh_token')
    return oauthError(
      'unsupported_grant_type',
      'grant_type must be "refresh_token"',
    )
  return refreshGrant(ctx, body.fields)
}

async function refreshGrant(
  ctx: Context,
  fields: Record<string, unknown>,
): Promise<Response> {
  const token = fields.refresh_token
  if (typeof token !== 'string' || token === '')
    return oauthError('invalid_request', 'refresh_token is required')
  const hash = await sha256(token)
  return ctx.store.run(async (state) => {
    const family = familyOfRefresh(state, hash)
    if (!family)
      return refreshAnswer(ctx, state, {
        ok: false,
        family: undefined,
        reason: 'unknown_token',
      })
    // Prepare the new pair first; `exchange` below is synchronous, so concurrent
    // refreshes of one token cannot both rotate it.
    const prepared = await prepareTokens(ctx, family.user)
    return refreshAnswer(ctx, state, exchange(ctx, state, hash, prepared))
  })
}

function refreshAnswer(
  ctx: Context,
  state: ServerState,
  result: Exchanged,
): Response {
  const { family } = result
  const who = family ? { user: family.user, family: family.id } : {}
  if (result.ok) {
    state.stats.refreshes++
    record(ctx, state, { event: 'refresh', ...who, outcome: result.outcome })
    return tokenAnswer(ctx, result.tokens)
  }
  state.stats.failedRefreshes++
  if (result.reason === 'reuse') {
    state.stats.reuseDetections++
    record(ctx, state, {
      event: 'reuse-detected',
      ...who,
      outcome: 'family_revoked',
    })
    return oauthError(
      'invalid_grant',
      'refresh token was already used; the session has been revoked',
    )
  }
  record(ctx, state, { event: 'refresh', ...who, outcome: result.reason })
  const description =
    result.reason === 'family_expired'
      ? 'refresh token expired'
      : result.reason === 'family_revoked'
        ? 'refresh token revoked'
        : 'refresh token is invalid'
  return oauthError('invalid_grant', description)
}

function tokenAnswer(ctx: Context, tokens: Issued | Prepared): Response {
  return tokenResponse({
    access_token: tokens.accessToken,
    refresh_token: tokens.refreshToken,
    token_type: 'bearer',
    expires_in: Math.round(ctx.settings.accessTtlMs / 1000),
  })
}

/**
 * There are only public clients: client credentials (HTTP Basic or a
 * `client_secret`) name a client we do not know. A bare `client_id` is ignored.
 */
export function rejectClient(
  request: Request,
  fields: Record<string, unknown>,
): Response | undefined {
  const basic = /^basic\s/i.test(request.headers.get('authorization') ?? '')
  if (basic || fields.client_secret !== undefined)
    return oauthError(
      'invalid_client',
      'unknown client; this server only has public clients',
    )
  return undefined
}
