import { SignJWT, base64url, errors, jwtVerify } from 'jose'
import type { Context } from './context.ts'
import type { ServerState } from './state.ts'

export const randomToken = (bytes: number): string =>
  base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)))

export async function sha256(value: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(value),
  )
  return base64url.encode(new Uint8Array(digest))
}

/** A new access JWT and a new refresh token, not yet recorded anywhere. */
export type Prepared = {
  accessToken: string
  jti: string
  accessExpiresAt: number
  refreshToken: string
  refreshHash: string
}

export async function prepareTokens(
  { settings }: Context,
  user: string,
): Promise<Prepared> {
  const issuedAt = settings.now()
  const accessExpiresAt = issuedAt + settings.accessTtlMs
  const jti = randomToken(16)
  // `exp` is in whole seconds: round up so jose never rejects before the
  // millisecond expiry tracked per jti (which is checked as well).
  const accessToken = await new SignJWT({ typ: 'access' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user)
    .setJti(jti)
    .setIssuedAt(Math.floor(issuedAt / 1000))
    .setExpirationTime(Math.ceil(accessExpiresAt / 1000))
    .sign(settings.key)
  const refreshToken = randomToken(32)
  return {
    accessToken,
    jti,
    accessExpiresAt,
    refreshToken,
    refreshHash: await sha256(refreshToken),
  }
}

export type Verified =
  | { ok: true; user: string; jti: string; family: string }
  | { ok: false; description: string }

/** Checks an access JWT: pinned HS256, the injected clock, and a live jti of this server. */
export async function verifyAccessToken(
  { settings }: Context,
  state: ServerState,
  token: string,
): Promise<Verified> {
  let payload
  try {
    ;({ payload } = await jwtVerify(token, settings.key, {
      algorithms: ['HS256'],
      currentDate: new Date(settings.now()),
      requiredClaims: ['sub', 'jti', 'iat', 'exp'],
    }))
  } catch (error) {
    return { ok: false, description: describeJoseError(error) }
  }
  if (payload.typ !== 'access')
    return { ok: false, description: 'not an access token' }
  const record = state.access.get(payload.jti!)
  if (!record || record.sub !== payload.sub)
    return { ok: false, description: 'unknown token' }
  if (record.revoked) return { ok: false, description: 'token revoked' }
  if (settings.now() >= record.expiresAt)
    return { ok: false, description: 'token expired' }
  return {
    ok: true,
    user: record.sub,
    jti: payload.jti!,
    family: record.family,
  }
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired'
  if (error instanceof errors.JOSEAlgNotAllowed)
    return 'signing algorithm not allowed'
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return 'signature verification failed'
  if (error instanceof errors.JWTClaimValidationFailed) return 'invalid claims'
  return 'malformed token'
}
