import { describe, expect, it, vi } from 'vitest'
import {
  StorageConflictError,
  StorageError,
  createSession,
  memoryStorage,
  webStorage,
} from '../index'
import type { SessionEvents, TokenSet, TokenStorage } from '../index'
import { FakeStorage, expectNoSecrets, gate } from './helpers'

const tokens: TokenSet = {
  accessToken: 'access-1',
  refreshToken: 'refresh-1',
  expiresAt: 4_102_444_800_000,
  tokenType: 'Bearer',
}
const refresh = async () => ({
  access_token: 'access-2',
  refresh_token: 'refresh-2',
})

describe('memoryStorage', () => {
  it('holds what it was given', () => {
    const storage = memoryStorage()
    expect(storage.get()).toBeNull()
    void storage.set(tokens)
    expect(storage.get()).toBe(tokens)
    void storage.set(null)
    expect(storage.get()).toBeNull()
    expect(memoryStorage(tokens).get()).toBe(tokens)
  })

  it('is the default: each session has its own', async () => {
    const a = createSession({ refresh })
    const b = createSession({ refresh })
    await a.setTokens(tokens)
    expect(b.getSnapshot().tokens).toBeNull()
  })
})

describe('webStorage', () => {
  it('survives a reload: a new session on the same Storage starts signed in', async () => {
    const backing = new FakeStorage()
    const first = createSession({ refresh, storage: webStorage(backing) })
    await first.setTokens(tokens)
    await first.refresh()

    const reloaded = createSession({ refresh, storage: webStorage(backing) })
    expect(reloaded.getSnapshot()).toMatchObject({
      status: 'authenticated',
      tokens: { accessToken: 'access-2', refreshToken: 'refresh-2' },
      generation: 0,
    })
    expect(await reloaded.getAccessToken()).toBe('access-2')
  })

  it('stores JSON under the key, tokenflight by default', async () => {
    const backing = new FakeStorage()
    await createSession({ refresh, storage: webStorage(backing) }).setTokens(
      tokens,
    )
    expect(JSON.parse(backing.getItem('tokenflight') ?? '')).toEqual(tokens)
    await createSession({
      refresh,
      storage: webStorage(backing, 'other'),
    }).setTokens({ accessToken: 'x' })
    expect(backing.getItem('other')).toBe('{"accessToken":"x"}')
  })

  it('removes the key on logout', async () => {
    const backing = new FakeStorage()
    const session = createSession({ refresh, storage: webStorage(backing) })
    await session.setTokens(tokens)
    await session.logout()
    expect(backing.getItem('tokenflight')).toBeNull()
    expect(
      createSession({ refresh, storage: webStorage(backing) }).getSnapshot()
        .status,
    ).toBe('anonymous')
  })

  it.each([
    ['corrupt JSON', '{"accessToken":'],
    ['a JSON string', '"access-1"'],
    ['a foreign shape', '{"token":"x"}'],
    ['an empty access token', '{"accessToken":""}'],
  ])('reads %s as null and drops it', (_, stored) => {
    const backing = new FakeStorage()
    backing.setItem('tokenflight', stored)
    const storage = webStorage(backing)
    expect(storage.get()).toBeNull()
    expect(backing.getItem('tokenflight')).toBeNull()
    const session = createSession({ refresh, storage })
    expect(session.getSnapshot().status).toBe('anonymous')
  })

  it('does not touch window, localStorage, IndexedDB or the channels at import time', async () => {
    vi.resetModules()
    const touched = vi.fn()
    const names = [
      'window',
      'localStorage',
      'sessionStorage',
      'document',
      'indexedDB',
      'navigator',
      'BroadcastChannel',
      'addEventListener',
    ]
    const saved = names.map((name) =>
      Object.getOwnPropertyDescriptor(globalThis, name),
    )
    for (const name of names)
      Object.defineProperty(globalThis, name, {
        configurable: true,
        get: () => touched(name),
      })
    try {
      const core = await import('../index')
      core.createSession({ refresh })
      expect(typeof core.browserStorage).toBe('function')
      expect(touched).not.toHaveBeenCalled()
    } finally {
      names.forEach((name, i) => {
        const descriptor = saved[i]
        if (descriptor) Object.defineProperty(globalThis, name, descriptor)
        else Reflect.deleteProperty(globalThis, name)
      })
    }
  })

  describe('shared by tabs', () => {
    // A window's `storage` events, for a Node test: the other tab's writes arrive so.
    const withWindowEvents = () => {
      const target = new EventTarget()
      Object.assign(globalThis, {
        addEventListener: target.addEventListener.bind(target),
        removeEventListener: target.removeEventListener.bind(target),
      })
      return {
        storageEvent(key: string | null) {
          target.dispatchEvent(Object.assign(new Event('storage'), { key }))
        },
        restore() {
          Reflect.deleteProperty(globalThis, 'addEventListener')
          Reflect.deleteProperty(globalThis, 'removeEventListener')
        },
      }
    }

    it('watch: a storage event for its key (or a clear) calls back, others do not', () => {
      const events = withWindowEvents()
      try {
        const onChange = vi.fn()
        const stop = webStorage(new FakeStorage()).watch!(onChange)
        events.storageEvent('something-else')
        expect(onChange).not.toHaveBeenCalled()
        events.storageEvent('tokenflight')
        events.storageEvent(null)
        expect(onChange).toHaveBeenCalledTimes(2)
        stop()
        events.storageEvent('tokenflight')
        expect(onChange).toHaveBeenCalledTimes(2)
      } finally {
        events.restore()
      }
    })

    it('watch without window events (Node, a worker without them) is a no-op', () => {
      const stop = webStorage(new FakeStorage()).watch!(() => {})
      expect(stop).not.toThrow()
    })

    it('set with expected writes only over the expected tokens', () => {
      const backing = new FakeStorage()
      const storage = webStorage(backing)
      void storage.set(tokens)
      const newer = { accessToken: 'access-2', refreshToken: 'refresh-2' }
      expect(() => storage.set(newer, { expected: tokens })).not.toThrow()
      // Another tab refreshed meanwhile: a late write or clear for `tokens` must not land.
      expect(() => storage.set(null, { expected: tokens })).toThrow(
        StorageConflictError,
      )
      expect(() =>
        storage.set({ accessToken: 'x' }, { expected: tokens }),
      ).toThrow(StorageConflictError)
      expect(storage.get()).toEqual(newer)
      // Expected null: only over an empty key.
      expect(() => storage.set(tokens, { expected: null })).toThrow(
        StorageConflictError,
      )
      void storage.set(null, { expected: newer })
      expect(() => storage.set(tokens, { expected: null })).not.toThrow()
      // A corrupt value holds no tokens to protect: any write replaces it.
      backing.setItem('tokenflight', '{"nope":')
      expect(() => storage.set(newer, { expected: tokens })).not.toThrow()
      expect(storage.get()).toEqual(newer)
    })

    it('a conflict error carries no token', () => {
      const storage = webStorage(new FakeStorage())
      void storage.set(tokens)
      let error: unknown
      try {
        void storage.set(null, { expected: { accessToken: 'secret-a' } })
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(StorageConflictError)
      expectNoSecrets(error, ['access-1', 'refresh-1', 'secret-a'], true)
    })
  })
})

describe('a storage that throws', () => {
  const quota = () => new DOMException('quota exceeded', 'QuotaExceededError')

  it('on set: storageError fires and the session keeps working from memory', async () => {
    const storage: TokenStorage = {
      get: () => null,
      set: () => {
        throw quota()
      },
    }
    const session = createSession({ refresh, storage })
    const errors: Array<SessionEvents['storageError']> = []
    session.on('storageError', (e) => errors.push(e))
    await expect(session.setTokens(tokens)).resolves.toBeUndefined()
    expect(await session.getAccessToken()).toBe('access-1')
    await expect(session.refresh()).resolves.toMatchObject({
      accessToken: 'access-2',
    })
    expect(await session.getAccessToken()).toBe('access-2')
    expect(errors).toHaveLength(2)
    expect(errors[0]?.operation).toBe('set')
    expect(errors[0]?.error).toBeInstanceOf(StorageError)
    expect((errors[0]?.error.cause as DOMException).name).toBe(
      'QuotaExceededError',
    )
  })

  it('on set, asynchronously: same', async () => {
    const session = createSession({
      refresh,
      storage: { get: () => null, set: () => Promise.reject(quota()) },
    })
    const failed = vi.fn()
    session.on('storageError', failed)
    await session.setTokens(tokens)
    expect(failed).toHaveBeenCalledOnce()
    expect(session.getSnapshot().status).toBe('authenticated')
  })

  it('webStorage over a Storage whose setItem throws (private mode)', async () => {
    const backing = new FakeStorage()
    backing.setItem = () => {
      throw quota()
    }
    const session = createSession({ refresh, storage: webStorage(backing) })
    const failed = vi.fn()
    session.on('storageError', failed)
    await session.setTokens(tokens)
    expect(await session.getAccessToken()).toBe('access-1')
    expect(failed).toHaveBeenCalledOnce()
  })

  it('on get: storageError fires once handlers can listen, the session starts anonymous', async () => {
    const session = createSession({
      refresh,
      storage: {
        get: () => {
          throw new Error('SecurityError')
        },
        set: () => {},
      },
    })
    const failed = vi.fn()
    session.on('storageError', failed)
    await Promise.resolve()
    expect(failed).toHaveBeenCalledExactlyOnceWith({
      error: expect.any(StorageError),
      operation: 'get',
    })
    expect(session.getSnapshot().status).toBe('anonymous')
    await session.setTokens(tokens)
    expect(await session.getAccessToken()).toBe('access-1')
  })

  it('on get: a stored value that is not a token set is reported and ignored', async () => {
    const session = createSession({
      refresh,
      storage: {
        get: () => ({ nope: 1 }) as unknown as TokenSet,
        set: () => {},
      },
    })
    const failed = vi.fn()
    session.on('storageError', failed)
    expect(session.getSnapshot().status).toBe('anonymous')
    expect(await session.getAccessToken()).toBeNull()
    expect(failed).toHaveBeenCalledOnce()
    expect(failed.mock.calls[0]?.[0].operation).toBe('get')
  })
})

describe('an async storage', () => {
  it('getAccessToken and refresh wait for hydration', async () => {
    const stored = gate<TokenSet | null>()
    const session = createSession({
      refresh,
      storage: { get: () => stored.promise, set: async () => {} },
    })
    expect(session.getSnapshot().status).toBe('anonymous')
    const token = session.getAccessToken()
    const refreshed = session.refresh()
    stored.open(tokens)
    expect(await token).toBe('access-1')
    expect((await refreshed).accessToken).toBe('access-2')
    expect(session.getSnapshot().generation).toBe(2)
  })

  it('a hydrated session notifies subscribers and moves the generation', async () => {
    const stored = gate<TokenSet | null>()
    const session = createSession({
      refresh,
      storage: { get: () => stored.promise, set: async () => {} },
    })
    const listener = vi.fn()
    session.subscribe(listener)
    stored.open(tokens)
    await session.getAccessToken()
    expect(listener).toHaveBeenCalledOnce()
    expect(session.getSnapshot()).toMatchObject({
      status: 'authenticated',
      tokens,
      generation: 1,
    })
  })

  it('a token change made before hydration finishes wins', async () => {
    const stored = gate<TokenSet | null>()
    const set = vi.fn()
    const session = createSession({
      refresh,
      storage: { get: () => stored.promise, set },
    })
    await session.setTokens({ accessToken: 'typed-in' })
    stored.open(tokens)
    expect(await session.getAccessToken()).toBe('typed-in')
    expect(set).toHaveBeenCalledExactlyOnceWith({ accessToken: 'typed-in' })
  })

  it('a logout before hydration finishes wins', async () => {
    const stored = gate<TokenSet | null>()
    const session = createSession({
      refresh,
      storage: { get: () => stored.promise, set: async () => {} },
    })
    await session.logout()
    stored.open(tokens)
    expect(await session.getAccessToken()).toBeNull()
  })

  it('a failed read is reported and the session starts anonymous', async () => {
    const session = createSession({
      refresh,
      storage: {
        get: () => Promise.reject(new Error('indexedDB is gone')),
        set: async () => {},
      },
    })
    const failed = vi.fn()
    session.on('storageError', failed)
    expect(await session.getAccessToken()).toBeNull()
    expect(failed).toHaveBeenCalledOnce()
  })
})
