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
  ) => {
    const name = raw ? snake : camel
    const value = b[name]
    if (value != null && !valid(value)) invalid(name)
    return value ?? undefined
  }
  const tokens: TokenSet = {
    accessToken: (read('accessToken', 'access_token', isText) ??
      invalid(raw ? 'access_token' : 'accessToken')) as string,
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
  let expires = read('expiresAt', 'expires_in', (v) =>
    raw && typeof v === 'string' ? /^[1-9]\d*$/.test(v) : Number.isFinite(v),
  )
  if (expires !== undefined) {
    expires = Number(expires)
    if (raw) {
      if (!((expires as number) > 0)) invalid('expires_in')
      expires = receivedAt + (expires as number) * 1000
    }
    tokens.expiresAt = expires as number
  }
  return tokens
}
