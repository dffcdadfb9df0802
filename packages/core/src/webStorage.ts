import { StorageConflictError } from './errors'
import { normalizeTokenResponse } from './normalizeTokenResponse'
import { sameTokens } from './sameTokens'
import type { TokenSet, TokenStorage } from './types'

/**
 * What webStorage needs of a `Storage` (localStorage, sessionStorage or any look-alike).
 * Spelled out rather than `Pick<Storage, …>`: the published .d.ts must not need the DOM lib
 * in a Node-only project.
 */
export type WebStorageLike = {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

/**
 * Keeps the tokens as JSON under `key`, so they survive a reload. A value that is not
 * a valid token set reads as null and is removed. Errors thrown by the Storage itself
 * (quota, private mode) propagate; the session reports them as `storageError`.
 *
 * Follows other tabs through `storage` events (`watch`), and honours `expected` in `set` by
 * reading the key first: best effort, since a `Storage` has no transaction. It has no `lock`:
 * for one refresh across tabs use `browserStorage()`.
 */
export function webStorage(
  storage: WebStorageLike,
  key = 'tokenflight',
): TokenStorage {
  // The stored tokens; undefined when the value is not a token set (it holds none to protect).
  const read = (): TokenSet | null | undefined => {
    const stored = storage.getItem(key)
    try {
      return stored === null ? null : normalizeTokenResponse(JSON.parse(stored))
    } catch {
      return undefined
    }
  }
  return {
    get() {
      const tokens = read()
      // Corrupt or foreign data: drop it rather than fail every start-up.
      if (tokens === undefined) storage.removeItem(key)
      return tokens ?? null
    },
    set(tokens, options) {
      const current = options && read()
      if (current !== undefined && !sameTokens(current, options?.expected))
        throw new StorageConflictError(
          'Web storage: another tab changed the tokens first',
        )
      if (tokens) storage.setItem(key, JSON.stringify(tokens))
      else storage.removeItem(key)
    },
    watch(onChange) {
      // Fired in the other tabs only; a null key means the whole Storage was cleared.
      const changed = (e: StorageEvent) =>
        (e.key === key || e.key === null) && onChange()
      globalThis.addEventListener?.('storage', changed)
      return () => globalThis.removeEventListener?.('storage', changed)
    },
  }
}
