import type { TokenSet, TokenStorage } from './types'

/** Keeps the tokens in memory only: they are gone on reload. A session without `storage` behaves so. */
export function memoryStorage(initial: TokenSet | null = null): TokenStorage {
  let tokens = initial
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next
    },
  }
}
