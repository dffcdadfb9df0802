import { internals } from './internals.ts'
import { createState, type ServerState, type StateStore } from './state.ts'
import type { AuthServer } from './types.ts'

// One server state for every tab of an origin. MSW's service worker hands each request to
// the tab that sent it, so every tab runs its own copy of the server logic; what they share
// is the state: kept in IndexedDB, and each request runs under an exclusive Web Lock that
// loads it, applies the request, and saves it before the lock is released. Nothing lives
// in one tab only, so closing any tab loses nothing, and the lock makes a check-and-rotate
// atomic across tabs. A BroadcastChannel tells the other tabs that something changed (their
// `stats`/`audit` follow), that `reset()` released held requests, or that a gate opened;
// its messages carry no token.

const DB_NAME = 'tokenflight-mock-server'
const STORE_NAME = 'servers'

type Saved = { key: Uint8Array; state: ServerState }

type Message =
  { type: 'changed' } | { type: 'reset' } | { type: 'gate'; id: string }

/** Whether this browser can share the state (IndexedDB, Web Locks: a secure context). */
export function canShareState(): boolean {
  return (
    typeof indexedDB !== 'undefined' &&
    typeof BroadcastChannel !== 'undefined' &&
    typeof navigator !== 'undefined' &&
    navigator.locks !== undefined
  )
}

/**
 * Moves `server`'s state to the shared store called `name`: the first holder seeds it
 * (state and HS256 key), later ones adopt it. Resolves false when it cannot share.
 */
export async function shareState(
  server: AuthServer,
  name: string,
): Promise<boolean> {
  const inner = internals.get(server)
  if (inner === undefined || !canShareState()) return false
  // A second startAuthWorker (after stop()) keeps the shared store it already has.
  if (inner.sharedAs !== undefined) return true
  const { ctx } = inner
  const { settings } = ctx
  const db = await openDatabase()
  const lockName = `${DB_NAME}:${name}`
  // (lib.dom types `request` as Promise<callback's return>; `await` flattens it.)
  const locked = async <T>(work: () => Promise<T>): Promise<T> =>
    await navigator.locks.request(lockName, work)

  let cache = ctx.store.peek()
  // Changes made to `cache` by a synchronous test hook whose locked run has not ended.
  let pending: Array<(state: ServerState) => void> = []
  // Bumped by every adoption of a state, so a slow reload never replaces a newer one.
  let version = 0
  const adopt = (state: ServerState): void => {
    version++
    cache = state
    for (const work of pending) work(cache)
  }

  await locked(async () => {
    const saved = await read(db, name)
    if (saved === undefined || settings.explicitKey)
      await write(db, name, { key: settings.key, state: saved?.state ?? cache })
    else settings.key = saved.key
    if (saved !== undefined) adopt(saved.state)
  })

  const channel = new BroadcastChannel(lockName)
  const tell = (message: Message) => channel.postMessage(message)
  channel.onmessage = (event: MessageEvent<Message>) => {
    const message = event.data
    if (message.type === 'reset') inner.releaseHeld()
    else if (message.type === 'gate') inner.gates.opened(message.id)
    else {
      const seen = version
      void read(db, name).then(
        (saved) => {
          if (saved !== undefined && version === seen) adopt(saved.state)
        },
        () => undefined,
      )
    }
  }
  inner.onReset = () => tell({ type: 'reset' })
  inner.gates.onOpen = (id) => tell({ type: 'gate', id })

  const transact = <T>(
    work: (state: ServerState) => T | Promise<T>,
    saved?: () => void,
  ): Promise<T> =>
    locked(async () => {
      const before = await read(db, name)
      const state = before?.state ?? createState()
      const result = await work(state)
      await write(db, name, { key: before?.key ?? settings.key, state })
      saved?.()
      adopt(state)
      tell({ type: 'changed' })
      return result
    })
  const store: StateStore = {
    run: (work) => transact(work),
    apply: (work) => {
      work(cache)
      pending.push(work)
      const done = () => {
        pending = pending.filter((w) => w !== work)
      }
      // Lock requests are granted in order: a request sent after this call sees it.
      transact(work, done).catch(done)
    },
    peek: () => cache,
  }
  ctx.store = store
  inner.sharedAs = name
  return true
}

function openDatabase(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1)
    request.onupgradeneeded = () => request.result.createObjectStore(STORE_NAME)
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

function read(db: IDBDatabase, name: string): Promise<Saved | undefined> {
  return new Promise((resolve, reject) => {
    const request = db
      .transaction(STORE_NAME, 'readonly')
      .objectStore(STORE_NAME)
      .get(name)
    request.onsuccess = () => resolve(request.result as Saved | undefined)
    request.onerror = () => reject(request.error)
  })
}

function write(db: IDBDatabase, name: string, saved: Saved): Promise<void> {
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE_NAME, 'readwrite')
    transaction.objectStore(STORE_NAME).put(saved, name)
    transaction.oncomplete = () => resolve()
    transaction.onerror = () => reject(transaction.error)
    transaction.onabort = () => reject(transaction.error)
  })
}
