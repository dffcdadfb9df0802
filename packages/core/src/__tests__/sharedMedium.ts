import { StorageConflictError } from '../errors'
import { sameTokens } from '../sameTokens'
import type { TokenSet, TokenStorage } from '../types'

type Waiter = {
  run: () => void
  signal: AbortSignal
  abort: () => void
}

/**
 * One token record shared by several holders, as tabs share IndexedDB or processes a file:
 * a version-guarded record, a FIFO lock that honours the waiter's signal, and change notices
 * to every other holder. The test controls the hard parts: `steal()` hands the lock to the
 * next waiter while its holder still runs (a stale-lock takeover), `holdNotices()` keeps the
 * notices until `deliver()`, and `gateReads()` holds the next read until the test opens it.
 */
export function sharedMedium(initial: TokenSet | null = null) {
  let record = { version: 0, tokens: initial }
  let holder: number | undefined
  let nextId = 0
  const queue: Waiter[] = []
  const watchers = new Map<number, Set<() => void>>()
  let held: Array<() => void> | undefined
  const stats = { gets: 0, sets: 0, conflicts: 0, locks: 0 }
  let readGate: Promise<unknown> | undefined

  const grant = () => {
    while (holder === undefined && queue.length) {
      const waiter = queue.shift()!
      if (waiter.signal.aborted) continue
      waiter.run()
    }
  }

  const notify = (from: number) => {
    for (const [id, set] of watchers)
      if (id !== from)
        for (const onChange of set) {
          if (held) held.push(onChange)
          else queueMicrotask(onChange)
        }
  }

  const write = (from: number, tokens: TokenSet | null) => {
    record = { version: record.version + 1, tokens }
    stats.sets++
    notify(from)
  }

  /** A holder: one tab or process, with its own identity for locks and notices. */
  const holderStorage = (): TokenStorage & { id: number } => {
    const id = ++nextId
    return {
      id,
      async get() {
        stats.gets++
        const gate = readGate
        readGate = undefined
        const seen = record.tokens
        if (gate) await gate
        return seen
      },
      async set(tokens, options) {
        if (options && !sameTokens(options.expected, record.tokens)) {
          stats.conflicts++
          throw new StorageConflictError('The stored tokens changed meanwhile')
        }
        write(id, tokens)
      },
      lock(work, { signal }) {
        return new Promise((resolve, reject) => {
          const lease = ++stats.locks
          const waiter: Waiter = {
            signal,
            abort: () => {
              const index = queue.indexOf(waiter)
              if (index >= 0) queue.splice(index, 1)
              reject(signal.reason)
            },
            run: () => {
              signal.removeEventListener('abort', waiter.abort)
              holder = lease
              work()
                .then(resolve, reject)
                .finally(() => {
                  // A holder whose lock was stolen releases nothing of the new holder's.
                  if (holder === lease) holder = undefined
                  grant()
                })
            },
          }
          if (signal.aborted) return reject(signal.reason)
          signal.addEventListener('abort', waiter.abort, { once: true })
          queue.push(waiter)
          grant()
        })
      },
      watch(onChange) {
        const set = watchers.get(id) ?? new Set()
        watchers.set(id, set)
        set.add(onChange)
        return () => void set.delete(onChange)
      },
    }
  }

  return {
    holder: holderStorage,
    stats,
    get tokens() {
      return record.tokens
    },
    get version() {
      return record.version
    },
    /** Waiters still queued for the lock. */
    get waiting() {
      return queue.filter((w) => !w.signal.aborted).length
    },
    get locked() {
      return holder !== undefined
    },
    /** Writes as a holder that is none of the sessions (another app instance, say). */
    put(tokens: TokenSet | null) {
      write(0, tokens)
    },
    /** The lock's holder is declared dead: the next waiter gets the lock at once. */
    steal() {
      holder = undefined
      grant()
    },
    holdNotices() {
      held = []
    },
    deliver() {
      const pending = held ?? []
      held = undefined
      for (const onChange of pending) onChange()
    },
    /** The next get() reads the record now but answers only when `until` settles. */
    gateReads(until: Promise<unknown>) {
      readGate = until
    },
  }
}
