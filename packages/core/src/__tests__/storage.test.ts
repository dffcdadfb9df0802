import { describe, expect, it, vi } from 'vitest'
import {
  StorageError,
  createSession,
  memoryStorage,
  webStorage,
} from '../index'
import type { SessionEvents, TokenSet, TokenStorage } from '../index'
import { FakeStorage, gate } from './helpers'

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

  it('does not touch window or localStorage at import time', async () => {
    vi.resetModules()
    const touched = vi.fn()
    for (const name of ['window', 'localStorage', 'sessionStorage', 'document'])
      Object.defineProperty(globalThis, name, {
        configurable: true,
        get: () => touched(name),
      })
    try {
      const core = await import('../index')
      core.createSession({ refresh })
      expect(touched).not.toHaveBeenCalled()
    } finally {
      for (const name of [
        'window',
        'localStorage',
        'sessionStorage',
        'document',
      ])
        Reflect.deleteProperty(globalThis, name)
    }
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
