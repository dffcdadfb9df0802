import type { TokenSet } from './types'

/**
 * Whether two token sets are the same grant: the same access and refresh token. What a
 * shared storage compares for `set(tokens, { expected })`, and what the session compares
 * to tell another holder's tokens from its own.
 */
export function sameTokens(
  a: TokenSet | null | undefined,
  b: TokenSet | null | undefined,
): boolean {
  return a && b
    ? a.accessToken === b.accessToken && a.refreshToken === b.refreshToken
    : !a === !b
}
