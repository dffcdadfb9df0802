import { InvalidTokenResponseError } from './errors'
import type { TokenSet } from './types'

// Messages name the field, never its value: the value may be a token.
const invalid = (why: string) =>
  new InvalidTokenResponseError(`Invalid token response: ${why}`)

// `null` counts as absent: FastAPI/pydantic serialise `Optional[...] = None` as null.
const given = (value: unknown) => value !== undefined && value !== null

const nonEmpty = (value: unknown, field: string): string => {
  if (typeof value !== 'string' || !value)
    throw invalid(`${field} must be a non-empty string`)
  return value
}

/**
 * Turns a TokenSet or a raw OAuth2 token response (RFC 6749 §5.1) into a TokenSet.
 * Strict: anything but a non-empty `access_token`, an optional non-empty `refresh_token`,
 * a positive `expires_in` (number or canonical decimal string) and a bearer `token_type`
 * throws InvalidTokenResponseError.
 */
export function normalizeTokenResponse(
  body: unknown,
  receivedAt: number = Date.now(),
): TokenSet {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('not a JSON object')
  const b = body as Record<string, unknown>
  const raw = !('accessToken' in b)
  const [access, refresh, type] = raw
    ? (['access_token', 'refresh_token', 'token_type'] as const)
    : (['accessToken', 'refreshToken', 'tokenType'] as const)
  const tokens: TokenSet = { accessToken: nonEmpty(b[access], access) }
  if (given(b[refresh])) tokens.refreshToken = nonEmpty(b[refresh], refresh)
  if (given(b[type])) {
    if (nonEmpty(b[type], type).toLowerCase() !== 'bearer')
      throw invalid(`${type} must be bearer`)
    tokens.tokenType = 'Bearer'
  }
  if (raw) {
    let expiresIn = b.expires_in
    if (typeof expiresIn === 'string' && /^[1-9]\d*$/.test(expiresIn))
      expiresIn = Number(expiresIn)
    if (given(expiresIn)) {
      if (
        typeof expiresIn !== 'number' ||
        !Number.isFinite(expiresIn) ||
        expiresIn <= 0
      )
        throw invalid('expires_in must be a positive number of seconds')
      tokens.expiresAt = receivedAt + expiresIn * 1000
    }
  } else if (given(b.expiresAt)) {
    if (typeof b.expiresAt !== 'number' || !Number.isFinite(b.expiresAt))
      throw invalid('expiresAt must be a finite number')
    tokens.expiresAt = b.expiresAt
  }
  return tokens
}
