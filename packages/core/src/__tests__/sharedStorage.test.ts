// The engine's rules for a storage shared by several holders (DESIGN.md, "Shared sessions"),
// each race made deterministic with gates and a medium whose lock and notices the test drives.
import { describe, expect, it, vi } from 'vitest'
import {
  RefreshError,
  RefreshTimeoutError,
  SessionExpiredError,
  StorageError,
  createSession,
} from '../index'
import type { Session, SessionOptions, TokenSet, TokenStorage } from '../index'
import { flush, gate, httpError } from './helpers'
import { sharedMedium } from './sharedMedium'

const old: TokenSet = { accessToken: 'access-1', refreshToken: 'refresh-1' }
const fast = { attempts: 2, baseDelayMs: 1 }

/** A refresh endpoint shared by every holder: rotates on each call, counts the calls. */
function rotatingServer() {
  let n = 1
  const calls: string[] = []
  const refresh: SessionOptions['refresh'] = async ({ tokens }) => {
    calls.push(tokens.refreshToken ?? '')
    n++
    return { access_token: `access-${n}`, refresh_token: `refresh-${n}` }
  }
  return { refresh, calls }
}

/** A session on the medium plus the events it fired. */
function holder(
  storage: TokenStorage,
  options: Partial<SessionOptions> = {},
): { session: Session; events: Record<string, unknown[]> } {
  const session = createSession({
    refresh: async () => {
      throw new Error('this holder must not refresh')
    },
    retry: fast,
    refreshLeewayMs: 0,
    storage,
    ...options,
  })
  const events: Record<string, unknown[]> = {}
  for (const name of [
    'refreshed',
    'adopted',
    'expired',
    'refreshFailed',
    'storageError',
  ] as const)
    session.on(name, (e) => (events[name] ??= []).push(e))
  return { session, events }
}

/** Lets the async hydration of every holder finish. */
const hydrated = async (...sessions: Session[]) => {
  await Promise.all(sessions.map((s) => s.getAccessToken()))
}

describe('one refresh per expiry across holders', () => {
  it('concurrent holders: one network refresh, the others adopt its tokens', async () => {
    const medium = sharedMedium(old)
    const server = rotatingServer()
    const answer = gate()
    const slow: SessionOptions['refresh'] = async (ctx) => {
      await answer.promise
      return server.refresh(ctx)
    }
    const tabs = [1, 2, 3].map(() => holder(medium.holder(), { refresh: slow }))
    await hydrated(...tabs.map((t) => t.session))
    const all = tabs.flatMap((t) =>
      Array.from({ length: 10 }, () => t.session.refresh()),
    )
    await flush()
    // One holder is inside the lock, the others wait for it.
    expect(medium.locked).toBe(true)
    answer.open()
    const results = await Promise.all(all)
    expect(server.calls).toEqual(['refresh-1'])
    expect(new Set(results.map((r) => r.accessToken))).toEqual(
      new Set(['access-2']),
    )
    for (const { session } of tabs)
      expect(session.getSnapshot()).toMatchObject({
        status: 'authenticated',
        tokens: { accessToken: 'access-2', refreshToken: 'refresh-2' },
      })
    expect(medium.tokens).toMatchObject({ accessToken: 'access-2' })
    const refreshed = tabs.filter((t) => t.events.refreshed)
    const adopted = tabs.filter((t) => t.events.adopted)
    expect(refreshed).toHaveLength(1)
    expect(adopted).toHaveLength(2)
  })

  it('staggered: a holder that missed the notice re-reads inside the lock and adopts', async () => {
    const medium = sharedMedium(old)
    const server = rotatingServer()
    const a = holder(medium.holder(), { refresh: server.refresh })
    const b = holder(medium.holder(), { refresh: server.refresh })
    await hydrated(a.session, b.session)
    medium.holdNotices()
    await a.session.refresh()
    // b still holds the old tokens in memory: its notice has not arrived.
    expect(b.session.getSnapshot().tokens).toMatchObject(old)
    const tokens = await b.session.refresh()
    expect(tokens).toMatchObject({ accessToken: 'access-2' })
    expect(server.calls).toEqual(['refresh-1'])
    expect(b.events.adopted).toHaveLength(1)
    expect(b.events.refreshed).toBeUndefined()
  })

  it('writes before it releases the lock: the next holder reads the new tokens', async () => {
    const medium = sharedMedium(old)
    const order: string[] = []
    const storage = medium.holder()
    const set = storage.set.bind(storage)
    storage.set = async (tokens, options) => {
      order.push('set')
      return set(tokens, options)
    }
    const lock = storage.lock!.bind(storage)
    storage.lock = (work, ctx) =>
      lock(work, ctx).finally(() => order.push('released'))
    const { session } = holder(storage, {
      refresh: rotatingServer().refresh,
    })
    await hydrated(session)
    await session.refresh()
    expect(order).toEqual(['set', 'released'])
  })

  it('follows a refresh elsewhere through watch, without writing back', async () => {
    const medium = sharedMedium(old)
    const server = rotatingServer()
    const a = holder(medium.holder(), { refresh: server.refresh })
    const b = holder(medium.holder())
    await hydrated(a.session, b.session)
    const before = b.session.getSnapshot().generation
    const sets = medium.stats.sets
    await a.session.refresh()
    await vi.waitFor(() =>
      expect(b.session.getSnapshot().tokens).toMatchObject({
        accessToken: 'access-2',
      }),
    )
    expect(b.session.getSnapshot().generation).toBe(before + 1)
    expect(b.session.getSnapshot().status).toBe('authenticated')
    // Only a's own write.
    expect(medium.stats.sets).toBe(sets + 1)
  })

  it('follows a logout and a login elsewhere', async () => {
    const medium = sharedMedium(old)
    const a = holder(medium.holder(), {
      login: async () => ({ access_token: 'a-9', refresh_token: 'r-9' }),
    })
    const b = holder(medium.holder())
    await hydrated(a.session, b.session)
    await a.session.logout()
    await vi.waitFor(() =>
      expect(b.session.getSnapshot().status).toBe('anonymous'),
    )
    expect(b.session.getSnapshot().tokens).toBeNull()
    expect(await b.session.getAccessToken()).toBeNull()
    await a.session.login({})
    await vi.waitFor(() =>
      expect(b.session.getSnapshot().status).toBe('authenticated'),
    )
    expect(await b.session.getAccessToken()).toBe('a-9')
    expect(b.events.adopted).toEqual([
      expect.objectContaining({ signedIn: false }),
      expect.objectContaining({ signedIn: true }),
    ])
  })

  it('drops a watch read that started before its own latest change, and reads again', async () => {
    const medium = sharedMedium(old)
    const b = holder(medium.holder())
    await hydrated(b.session)
    const read = gate()
    medium.gateReads(read.promise)
    // Someone else signs out; b's read sees null but answers late.
    medium.put(null)
    await flush()
    // Meanwhile b itself is given new tokens (a login, say) and writes them.
    await b.session.setTokens({ accessToken: 'mine', refreshToken: 'r-m' })
    read.open()
    await flush()
    await flush()
    // The stale null was not adopted; the re-read found b's own tokens.
    expect(b.session.getSnapshot()).toMatchObject({
      status: 'authenticated',
      tokens: { accessToken: 'mine' },
    })
  })

  it('the request path never reads the storage', async () => {
    const medium = sharedMedium({ ...old, expiresAt: Date.now() + 3_600_000 })
    const { session } = holder(medium.holder(), { refreshLeewayMs: 30_000 })
    await hydrated(session)
    const reads = medium.stats.gets
    for (let i = 0; i < 100; i++) {
      await session.getAccessToken()
      session.peekAccessToken?.()
    }
    expect(medium.stats.gets).toBe(reads)
  })
})

describe('the lock', () => {
  it('waiting for it counts against refreshTimeoutMs, and the wait is abandoned', async () => {
    const medium = sharedMedium(old)
    const held = gate()
    const server = rotatingServer()
    const a = holder(medium.holder(), {
      refresh: async (ctx) => {
        await held.promise
        return server.refresh(ctx)
      },
    })
    const bRefresh = vi.fn(server.refresh)
    const b = holder(medium.holder(), {
      refresh: bRefresh,
      refreshTimeoutMs: 20,
      retry: { attempts: 0, baseDelayMs: 1 },
    })
    await hydrated(a.session, b.session)
    const first = a.session.refresh()
    await flush()
    const error = await b.session.refresh().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RefreshTimeoutError)
    expect(bRefresh).not.toHaveBeenCalled()
    expect(medium.waiting).toBe(0)
    held.open()
    await first
    expect(server.calls).toEqual(['refresh-1'])
  })

  it('a refresh that ignores its signal still releases the lock at the deadline', async () => {
    const medium = sharedMedium(old)
    const never = new Promise<never>(() => {})
    const a = holder(medium.holder(), {
      refresh: () => never,
      refreshTimeoutMs: 20,
      retry: { attempts: 0, baseDelayMs: 1 },
    })
    const server = rotatingServer()
    const b = holder(medium.holder(), { refresh: server.refresh })
    await hydrated(a.session, b.session)
    await expect(a.session.refresh()).rejects.toBeInstanceOf(
      RefreshTimeoutError,
    )
    expect(medium.locked).toBe(false)
    await b.session.refresh()
    expect(server.calls).toEqual(['refresh-1'])
  })

  it('a lock that fails is a storageError and a transient, retried refresh failure', async () => {
    const medium = sharedMedium(old)
    const storage = medium.holder()
    const down = new Error('connection refused')
    let failures = 2
    const lock = storage.lock!.bind(storage)
    storage.lock = (work, ctx) =>
      failures-- > 0 ? Promise.reject(down) : lock(work, ctx)
    const server = rotatingServer()
    const { session, events } = holder(storage, { refresh: server.refresh })
    await hydrated(session)
    await session.refresh()
    expect(server.calls).toEqual(['refresh-1'])
    expect(events.storageError).toHaveLength(2)
    expect(events.storageError![0]).toMatchObject({ operation: 'lock' })

    failures = 5
    const error = await session.refresh().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RefreshError)
    expect(error).toMatchObject({ terminal: false })
    expect((error as RefreshError).cause).toBeInstanceOf(StorageError)
    expect(session.getSnapshot().status).toBe('authenticated')
  })

  it('a read that throws inside the lock is reported and the refresh goes on', async () => {
    const medium = sharedMedium(old)
    const storage = medium.holder()
    const server = rotatingServer()
    const { session, events } = holder(storage, { refresh: server.refresh })
    await hydrated(session)
    storage.get = () => {
      throw new Error('IndexedDB is blocked')
    }
    await session.refresh()
    expect(server.calls).toEqual(['refresh-1'])
    expect(events.storageError).toEqual([
      expect.objectContaining({ operation: 'get' }),
    ])
    expect(medium.tokens).toMatchObject({ accessToken: 'access-2' })
  })
})

describe('compare-and-set writes', () => {
  it('a holder whose lock was taken over never overwrites the newer tokens', async () => {
    const medium = sharedMedium(old)
    const stalled = gate()
    const a = holder(medium.holder(), {
      refresh: async () => {
        await stalled.promise
        return { access_token: 'late', refresh_token: 'late-r' }
      },
    })
    const server = rotatingServer()
    const b = holder(medium.holder(), { refresh: server.refresh })
    await hydrated(a.session, b.session)
    // a is stalled (a frozen process): it hears nothing until it wakes.
    medium.holdNotices()
    const first = a.session.refresh()
    await flush()
    const second = b.session.refresh()
    await flush()
    // a is declared dead (a stale lock): b takes over, refreshes and writes.
    medium.steal()
    await second
    expect(medium.tokens).toMatchObject({ accessToken: 'access-2' })
    // a wakes up with an answer for the old tokens: its write is refused.
    stalled.open()
    const tokens = await first
    expect(medium.stats.conflicts).toBe(1)
    expect(medium.tokens).toMatchObject({ accessToken: 'access-2' })
    expect(tokens).toMatchObject({ accessToken: 'access-2' })
    expect(a.session.getSnapshot().tokens).toMatchObject({
      accessToken: 'access-2',
    })
  })

  it('a logout elsewhere during a refresh is not undone by the refresh', async () => {
    const medium = sharedMedium(old)
    const answer = gate()
    const server = rotatingServer()
    const a = holder(medium.holder(), {
      refresh: async (ctx) => {
        await answer.promise
        return server.refresh(ctx)
      },
    })
    const b = holder(medium.holder())
    await hydrated(a.session, b.session)
    medium.holdNotices()
    const waiting = a.session.refresh()
    await flush()
    await b.session.logout()
    answer.open()
    await expect(waiting).rejects.toBeInstanceOf(SessionExpiredError)
    expect(medium.tokens).toBeNull()
    expect(a.session.getSnapshot()).toMatchObject({
      status: 'anonymous',
      tokens: null,
    })
  })
})

describe('a terminal failure', () => {
  it('adopts newer tokens another holder stored meanwhile', async () => {
    const medium = sharedMedium(old)
    const answer = gate()
    const a = holder(medium.holder(), {
      refresh: async () => {
        await answer.promise
        throw httpError(400, { error: 'invalid_grant' })
      },
    })
    await hydrated(a.session)
    medium.holdNotices()
    const waiting = a.session.refresh()
    await flush()
    // Another app instance signs in while a's doomed refresh is on the wire.
    const other = { accessToken: 'other', refreshToken: 'other-r' }
    medium.put(other)
    answer.open()
    await expect(waiting).resolves.toMatchObject({ accessToken: 'other' })
    expect(a.session.getSnapshot().status).toBe('authenticated')
    expect(a.events.expired).toBeUndefined()
    expect(medium.tokens).toEqual(other)
  })

  it('never clears newer tokens, even in a storage that cannot compare-and-set', async () => {
    const medium = sharedMedium(old)
    const { lock: _lock, set, ...rest } = medium.holder()
    // Ignores `expected`, as a storage without transactions may.
    const storage: TokenStorage = { ...rest, set: (tokens) => set(tokens) }
    const answer = gate()
    const a = holder(storage, {
      refresh: async () => {
        await answer.promise
        throw httpError(401)
      },
    })
    await hydrated(a.session)
    medium.holdNotices()
    const waiting = a.session.refresh()
    await flush()
    const other = { accessToken: 'other', refreshToken: 'other-r' }
    medium.put(other)
    answer.open()
    await expect(waiting).resolves.toMatchObject({ accessToken: 'other' })
    expect(medium.tokens).toEqual(other)
  })

  it('clears the storage when it still holds the tokens that failed, and the others follow', async () => {
    const medium = sharedMedium(old)
    const a = holder(medium.holder(), {
      refresh: async () => {
        throw httpError(400, { error: 'invalid_grant' })
      },
    })
    const b = holder(medium.holder())
    await hydrated(a.session, b.session)
    await expect(a.session.refresh()).rejects.toMatchObject({
      terminal: true,
    })
    expect(medium.tokens).toBeNull()
    expect(a.session.getSnapshot().status).toBe('expired')
    expect(a.events.expired).toHaveLength(1)
    await vi.waitFor(() =>
      expect(b.session.getSnapshot().status).toBe('anonymous'),
    )
  })

  it('is cleared before the lock is released: a holder queued behind it never refreshes the dead token again', async () => {
    const medium = sharedMedium(old)
    const answer = gate()
    const calls: string[] = []
    const dies: SessionOptions['refresh'] = async ({ tokens }) => {
      calls.push(tokens.refreshToken!)
      await answer.promise
      throw httpError(400, { error: 'invalid_grant' })
    }
    const a = holder(medium.holder(), { refresh: dies })
    const b = holder(medium.holder(), { refresh: dies })
    await hydrated(a.session, b.session)
    const inA = a.session.refresh()
    await flush()
    const inB = b.session.refresh()
    await flush()
    expect(medium.waiting).toBe(1)
    answer.open()
    await expect(inA).rejects.toMatchObject({ terminal: true })
    await expect(inB).rejects.toBeInstanceOf(SessionExpiredError)
    expect(calls).toEqual(['refresh-1'])
    expect(medium.tokens).toBeNull()
  })

  it('without a lock, a watched storage is re-read before the refresh and on failure', async () => {
    const medium = sharedMedium(old)
    const { lock: _lock, ...storage } = medium.holder()
    const server = rotatingServer()
    const a = holder(storage, { refresh: server.refresh })
    await hydrated(a.session)
    medium.holdNotices()
    medium.put({ accessToken: 'access-7', refreshToken: 'refresh-7' })
    await expect(a.session.refresh()).resolves.toMatchObject({
      accessToken: 'access-7',
    })
    expect(server.calls).toEqual([])
  })
})

describe('storages that are not shared', () => {
  it('a plain storage is neither re-read nor written with an expectation', async () => {
    const get = vi.fn(() => old)
    const set = vi.fn()
    const server = rotatingServer()
    const session = createSession({
      refresh: server.refresh,
      storage: { get, set },
    })
    await session.refresh()
    expect(get).toHaveBeenCalledTimes(1)
    expect(set.mock.calls).toEqual([[expect.objectContaining({})]])
    expect(set.mock.calls[0]).toHaveLength(1)
  })
})
