import { InvalidTokenResponseError } from './errors'
import type { TokenSet } from './types'

// The message names the field, never its value: the value may be a token.
const invalid = (field: string): never => {
  throw new InvalidTokenResponseError(`Invalid token response: bad ${field}`)
}

/** Longer tokens are refused: they would go out with every request (servers cap headers near 8–16 kB). */
export const MAX_TOKEN_LENGTH = 16_384

const isText = (value: unknown) => typeof value === 'string' && value !== ''

/**
 * The claims of a JWT, unchecked (no signature is verified: fit for scheduling and for telling
 * users apart on the client, never for trust). Throws when `token` is not a JWT.
 */
export const jwtClaims = (token: string): { [claim: string]: unknown } =>
  JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')))

/**
 * When a JWT access token expires, for scheduling only (the signature is not checked, and
 * nothing else is read from it): receipt time + `exp - iat`, so that a client clock that
 * disagrees with the server's does not matter; without `iat`, `exp` on this clock. undefined
 * when the token is not a JWT, has no usable `exp`, or has expired already.
 */
const jwtExpiresAt = (token: string, receivedAt: number) => {
  try {
    const { exp, iat } = jwtClaims(token)
    const at =
      typeof iat === 'number'
        ? receivedAt + ((exp as number) - iat) * 1000
        : (exp as number) * 1000
    if (typeof exp === 'number' && at > receivedAt) return at
  } catch {
    // Not a JWT: an opaque token has no expiry to read.
  }
}

/**
 * Turns a TokenSet or a raw OAuth2 token response (RFC 6749 §5.1) into a TokenSet.
 * Strict: a non-empty `access_token`, an optional non-empty `refresh_token`, an optional
 * positive `expires_in` (a number, or a canonical decimal string like "3600") and an
 * optional `token_type` that is bearer in any case; `null` counts as absent (pydantic
 * serialises `None` so). Anything else throws InvalidTokenResponseError.
 * A raw response without `expires_in` whose access token is a JWT takes `expiresAt` from
 * the JWT (`exp - iat` from receipt), unless `jwtExpiry` is false. A token longer than
 * MAX_TOKEN_LENGTH characters is refused too.
 */
export function normalizeTokenResponse(
  body: unknown,
  receivedAt: number = Date.now(),
  { jwtExpiry = true }: { jwtExpiry?: boolean | undefined } = {},
): TokenSet {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    invalid('body (not a JSON object)')
  const b = body as Record<string, unknown>
  const raw = !('accessToken' in b)
  // Reads a field by its camelCase or snake_case name; null and undefined read as absent.
  const read = (
    camel: string,
    snake: string,
    valid: (value: unknown) => boolean,
    required?: boolean,
  ) => {
    const name = raw ? snake : camel
    const value = b[name]
    if (value != null ? !valid(value) : required) invalid(name)
    if ((value as string)?.length > MAX_TOKEN_LENGTH)
      invalid(`${name} (over ${MAX_TOKEN_LENGTH} characters)`)
    return value
  }
  const tokens: TokenSet = {
    accessToken: read('accessToken', 'access_token', isText, true) as string,
  }
  const refreshToken = read('refreshToken', 'refresh_token', isText)
  if (refreshToken) tokens.refreshToken = refreshToken as string
  if (
    read(
      'tokenType',
      'token_type',
      (v) => typeof v === 'string' && v.toLowerCase() === 'bearer',
    )
  )
    tokens.tokenType = 'Bearer'
  // expires_in: seconds from receipt, > 0; expiresAt: epoch ms, as stored.
  const expires = read('expiresAt', 'expires_in', (v) =>
    typeof v === 'string'
      ? raw && /^[1-9]\d*$/.test(v)
      : Number.isFinite(v) && (!raw || (v as number) > 0),
  )
  const expiresAt =
    expires != null
      ? raw
        ? receivedAt + Number(expires) * 1000
        : (expires as number)
      : raw && jwtExpiry
        ? jwtExpiresAt(tokens.accessToken, receivedAt)
        : undefined
  if (expiresAt !== undefined) tokens.expiresAt = expiresAt
  return tokens
}
