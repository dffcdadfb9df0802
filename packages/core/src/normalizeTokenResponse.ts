import { InvalidTokenResponseError } from './errors'
import type { TokenSet } from './types'

// The message names the field, never its value: the value may be a token.
const invalid = (field: string): never => {
  throw new InvalidTokenResponseError(`Invalid token response: bad ${field}`)
}

const isText = (value: unknown) => typeof value === 'string' && value !== ''

/**
 * Turns a TokenSet or a raw OAuth2 token response (RFC 6749 §5.1) into a TokenSet.
 * Strict: a non-empty `access_token`, an optional non-empty `refresh_token`, an optional
 * positive `expires_in` (a number, or a canonical decimal string like "3600") and an
 * optional `token_type` that is bearer in any case; `null` counts as absent (pydantic
 * serialises `None` so). Anything else throws InvalidTokenResponseError.
 */
export function normalizeTokenResponse(
  body: unknown,
  receivedAt: number = Date.now(),
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
  if (expires != null)
    tokens.expiresAt = raw
      ? receivedAt + Number(expires) * 1000
      : (expires as number)
  return tokens
}
