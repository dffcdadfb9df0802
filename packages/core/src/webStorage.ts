import { normalizeTokenResponse } from './normalizeTokenResponse'
import type { TokenStorage } from './types'

/** What webStorage needs of a `Storage` (localStorage, sessionStorage or any look-alike). */
export type WebStorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>

/**
 * Keeps the tokens as JSON under `key`, so they survive a reload. A value that is not
 * a valid token set reads as null and is removed. Errors thrown by the Storage itself
 * (quota, private mode) propagate; the session reports them as `storageError`.
 */
export function webStorage(
  storage: WebStorageLike,
  key = 'tokenflight',
): TokenStorage {
  return {
    get() {
      const stored = storage.getItem(key)
      if (stored === null) return null
      try {
        return normalizeTokenResponse(JSON.parse(stored))
      } catch {
        // Corrupt or foreign data: drop it rather than fail every start-up.
        storage.removeItem(key)
        return null
      }
    },
    set(tokens) {
      if (tokens) storage.setItem(key, JSON.stringify(tokens))
      else storage.removeItem(key)
    },
  }
}
