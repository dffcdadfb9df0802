import { StorageConflictError, StorageError } from './errors'
import { normalizeTokenResponse } from './normalizeTokenResponse'
import { sameTokens } from './sameTokens'
import type { StorageLockContext, TokenSet, TokenStorage } from './types'

export type BrowserStorageOptions = {
  /** Names the IndexedDB database, the Web Lock and the BroadcastChannel. Default 'tokenflight'. */
  name?: string
}

/** The one record: the tokens and a version that moves on every write. */
type Entry = { version: number; tokens: TokenSet | null }

const STORE = 'tokens'
const KEY = 'current'
/** An open that neither succeeds nor fails (queued behind a blocked upgrade or delete) gives up then. */
const OPEN_TIMEOUT_MS = 2_000

const failure = (what: string, cause?: unknown) =>
  new StorageError(`Browser storage: ${what}`, { cause })

/**
 * Tokens shared by every tab of an origin: IndexedDB holds them (one record with a version,
 * compare-and-set inside one transaction), a Web Lock makes refreshes exclusive across tabs,
 * a BroadcastChannel tells the other tabs that something changed (a version number, never a
 * token), and a tab re-reads when it comes back (visible again, or out of the back/forward
 * cache). Without Web Locks (non-secure context, old browser) there is no `lock`: see the
 * core README, "Shared sessions", for what that leaves.
 *
 * Touches no browser global until used. Every failure is a typed `StorageError`; a write that
 * IndexedDB refused is kept in memory and read back until another tab writes, so this tab never
 * falls back to the older tokens it could not replace.
 */
export function browserStorage({
  name = 'tokenflight',
}: BrowserStorageOptions = {}): TokenStorage {
  let db: Promise<IDBDatabase> | undefined
  let chan: BroadcastChannel | undefined
  // The version this holder last read or wrote: a notice of that very version needs no re-read.
  let seen = 0
  // A write IndexedDB refused: its tokens, and the version of the record it failed to replace.
  let unsaved: Entry | undefined

  const open = () =>
    (db ??= new Promise<IDBDatabase>((resolve, reject) => {
      let late = false
      const request = indexedDB.open(name, 1)
      const timer = setTimeout(() => {
        late = true
        reject(failure('IndexedDB is blocked'))
      }, OPEN_TIMEOUT_MS)
      request.onupgradeneeded = () => request.result.createObjectStore(STORE)
      request.onsuccess = () => {
        const connection = request.result
        clearTimeout(timer)
        // Never block a newer version of the app; reopen after the browser closed us.
        connection.onversionchange = connection.onclose = () => {
          connection.close()
          db = undefined
        }
        // A connection that comes after we gave up has no user.
        if (late) connection.close()
        resolve(connection)
      }
      request.onerror = () => reject(request.error)
    }).catch((e: unknown) => {
      db = undefined
      throw e instanceof StorageError
        ? e
        : failure('IndexedDB is not available', e)
    }))

  // One transaction on the record: `step` gets it (undefined when it is unreadable) and may
  // write. Settles when the transaction does: a write is visible to every tab at `complete`.
  const transact = <T>(
    mode: IDBTransactionMode,
    step: (entry: Entry | undefined, store: IDBObjectStore) => T,
  ) =>
    open().then(
      (connection) =>
        new Promise<T>((resolve, reject) => {
          let result: T
          let error: unknown
          let tx: IDBTransaction
          try {
            tx = connection.transaction(STORE, mode)
          } catch (e) {
            // Closing, or a database another version of the app laid out differently.
            db = undefined
            throw failure('IndexedDB is not available', e)
          }
          const store = tx.objectStore(STORE)
          const read = store.get(KEY)
          read.onsuccess = () => {
            const raw = read.result as Entry | undefined
            let entry: Entry | undefined = { version: 0, tokens: null }
            try {
              if (raw)
                entry = Number.isSafeInteger(raw.version)
                  ? {
                      version: raw.version,
                      tokens: raw.tokens && normalizeTokenResponse(raw.tokens),
                    }
                  : undefined
            } catch {
              entry = undefined
            }
            try {
              result = step(
                unsaved && unsaved.version === entry?.version ? unsaved : entry,
                store,
              )
            } catch (e) {
              error = e
              tx.abort()
            }
          }
          tx.oncomplete = () => resolve(result)
          tx.onabort = () =>
            reject(error ?? failure('IndexedDB transaction failed', tx.error))
        }),
    )

  const channel = () => {
    if (!chan && typeof BroadcastChannel == 'function') {
      chan = new BroadcastChannel(name)
      // Node (SSR, tests) has the channel too: it must not keep the process alive.
      ;(chan as { unref?: () => void }).unref?.()
    }
    return chan
  }

  const storage: TokenStorage = {
    get: () =>
      transact('readonly', (entry) => {
        // Another version of the app, or a bug: never guessed at, replaced by the next write.
        if (!entry) throw failure('the stored record is unreadable')
        seen = entry.version
        return entry.tokens
      }),

    async set(tokens, options) {
      let version = 0
      try {
        await transact('readwrite', (entry, store) => {
          // An unreadable record holds no tokens to protect: any write replaces it.
          if (options && entry && !sameTokens(entry.tokens, options.expected))
            throw new StorageConflictError(
              'Browser storage: another tab changed the tokens first',
            )
          version = (entry?.version ?? 0) + 1
          store.put({ version, tokens }, KEY)
        })
      } catch (e) {
        // Refused by IndexedDB (quota…): this tab reads its own tokens back, not the older
        // stored ones, until another tab writes. A conflict leaves `version` at 0.
        if (version && !(e instanceof StorageConflictError))
          unsaved = { version: version - 1, tokens }
        throw e instanceof StorageError
          ? e
          : failure('IndexedDB refused the write', e)
      }
      unsaved = undefined
      seen = version
      channel()?.postMessage({ version })
    },

    watch(onChange) {
      const notice = ({ data }: MessageEvent) => {
        // Anything else (another version of the app) is a notice too: read, never trusted.
        if (data?.version !== seen) onChange()
      }
      const shown = (e: PageTransitionEvent) => e.persisted && onChange()
      const visible = () => document.visibilityState == 'visible' && onChange()
      const { document: doc, addEventListener: listen } = globalThis
      channel()?.addEventListener('message', notice)
      listen?.('pageshow', shown)
      doc?.addEventListener('visibilitychange', visible)
      return () => {
        chan?.removeEventListener('message', notice)
        globalThis.removeEventListener?.('pageshow', shown)
        doc?.removeEventListener('visibilitychange', visible)
      }
    },
  }
  // Web Locks exist only in secure contexts (https, localhost, 127.0.0.1).
  const locks = globalThis.navigator?.locks
  if (locks)
    storage.lock = <T>(
      work: () => Promise<T>,
      { signal }: StorageLockContext,
    ) => locks.request(name, { signal }, work) as Promise<T>
  return storage
}
