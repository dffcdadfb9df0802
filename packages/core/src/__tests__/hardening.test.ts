/// <reference types="node" />
// Issue 15: identity across sign-ins, deadlines on storage awaits, event-loop stalls, late
// refresh answers; and the issue-14 items that live in createSession.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  SessionExpiredError,
  StorageError,
  TokenflightError,
  createSession,
  oauth2Client,
} from '../index'
import type { SessionOptions, TokenSet, TokenStorage } from '../index'
import { flush, gate, httpError, recordingStorage } from './helpers'
import { sharedMedium } from './sharedMedium'

const old: TokenSet = { accessToken: 'access-1', refreshToken: 'refresh-1' }
const fast = { attempts: 2, baseDelayMs: 1 }
const never = () => new Promise<never>(() => {})

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
  vi.unstubAllEnvs()
})

describe('identity', () => {
  it('a refresh and a terminal failure keep it; login, setTokens and logout move it', async () => {
    let answer: () => Promise<unknown> = async () => ({ access_token: 'a-2' })
    const session = createSession({
      refresh: () => answer(),
      login: async () => ({ access_token: 'b-1', refresh_token: 'rb-1' }),
      storage: recordingStorage(old).storage,
      retry: fast,
    })
    const identity = () => session.getSnapshot().identity
    const start = identity()
    await session.refresh()
    expect(identity()).toBe(start)
    await session.logout()
    expect(identity()).toBe(start + 1)
    await session.login({})
    expect(identity()).toBe(start + 2)
    await session.setTokens(old)
    expect(identity()).toBe(start + 3)
    answer = () => Promise.reject(httpError(401))
    await expect(session.refresh()).rejects.toThrow()
    expect(session.getSnapshot().status).toBe('expired')
    expect(identity()).toBe(start + 3)
  })

  it('tokens adopted from a shared storage keep it; a sign-out there moves it', async () => {
    const medium = sharedMedium(old)
    const session = createSession({
      refresh: async () => {
        throw new Error('must adopt, not refresh')
      },
      storage: medium.holder(),
      refreshLeewayMs: 0,
      retry: fast,
    })
    await session.getAccessToken()
    const start = session.getSnapshot().identity
    // Another holder refreshed; this one hears of it only inside its own refresh.
    medium.holdNotices()
    medium.put({ accessToken: 'access-2', refreshToken: 'refresh-2' })
    await expect(session.refresh()).resolves.toMatchObject({
      accessToken: 'access-2',
    })
    expect(session.getSnapshot().identity).toBe(start)
    // A notice of tokens replacing tokens: another holder's refresh (the storage cannot
    // tell it from a login over a live sign-in).
    medium.put({ accessToken: 'access-3', refreshToken: 'refresh-3' })
    medium.deliver()
    await flush()
    expect(session.getSnapshot().tokens?.accessToken).toBe('access-3')
    expect(session.getSnapshot().identity).toBe(start)
    // Another holder signs out, then in (as someone else, maybe).
    medium.put(null)
    await flush()
    expect(session.getSnapshot()).toMatchObject({
      status: 'anonymous',
      identity: start + 1,
    })
    medium.put({ accessToken: 'other-user', refreshToken: 'other-refresh' })
    await flush()
    expect(session.getSnapshot().tokens?.accessToken).toBe('other-user')
    expect(session.getSnapshot().identity).toBe(start + 2)
  })
})

describe('storage deadlines', () => {
  it('a get() that never settles ends at refreshTimeoutMs with a storageError', async () => {
    vi.useFakeTimers()
    const session = createSession({
      refresh: async () => ({ access_token: 'x' }),
      storage: { get: never, set: () => {} },
      refreshTimeoutMs: 1_000,
    })
    const errors: unknown[] = []
    session.on('storageError', (e) => errors.push(e))
    let token: string | null | undefined
    void session.getAccessToken().then((t) => (token = t))
    await vi.advanceTimersByTimeAsync(999)
    expect(token).toBeUndefined()
    await vi.advanceTimersByTimeAsync(10)
    expect(token).toBeNull()
    expect(errors).toEqual([
      {
        operation: 'get',
        error: expect.objectContaining({
          name: 'StorageError',
          cause: expect.objectContaining({
            message: 'Token storage get did not answer within 1000 ms',
          }),
        }),
      },
    ])
    expect(session.peekAccessToken?.()).toBeNull()
  })

  it('any token change ends the wait for hydration at once', async () => {
    const session = createSession({
      refresh: async () => ({ access_token: 'x' }),
      storage: { get: never, set: () => {} },
      // No deadline: only the token change can end the wait.
      refreshTimeoutMs: Infinity,
    })
    const waiting = session.getAccessToken()
    await session.setTokens({ accessToken: 'mine' })
    await expect(waiting).resolves.toBe('mine')
  })

  it('login, setTokens and logout settle at the deadline when set() never does; the server-side logout goes out at once', async () => {
    vi.useFakeTimers()
    const logout = vi.fn(async () => {})
    const storage: TokenStorage = { get: () => old, set: never }
    const session = createSession({
      refresh: async () => ({ access_token: 'x' }),
      login: async () => ({ access_token: 'b' }),
      logout,
      storage,
      refreshTimeoutMs: 1_000,
    })
    const operations: string[] = []
    session.on('storageError', (e) => operations.push(e.operation))
    const settled: string[] = []
    void session.logout().then(() => settled.push('logout'))
    await vi.advanceTimersByTimeAsync(0)
    expect(logout).toHaveBeenCalledOnce()
    void session.login({}).then(() => settled.push('login'))
    await vi.advanceTimersByTimeAsync(1_100)
    void session.setTokens(old).then(() => settled.push('setTokens'))
    await vi.advanceTimersByTimeAsync(2_100)
    expect(settled.sort()).toEqual(['login', 'logout', 'setTokens'])
    expect(operations).toEqual(['set', 'set', 'set'])
    expect(session.getSnapshot().tokens).toEqual(old)
  })
})

describe('event-loop stall', () => {
  it('an answer already received when the deadline fires is used, not thrown away', async () => {
    const busy = (ms: number) => {
      const end = performance.now() + ms
      while (performance.now() < end);
    }
    let calls = 0
    const server = createServer((_req, res) => {
      calls++
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ access_token: 'access-2', expires_in: 60 }))
      // The answer is in the client's socket; then the loop stalls past the deadline.
      setImmediate(() => busy(1_500))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const { port } = server.address() as AddressInfo
      const session = createSession({
        ...oauth2Client({ baseUrl: `http://127.0.0.1:${port}` }),
        storage: recordingStorage(old).storage,
        refreshTimeoutMs: 1_000,
        retry: { attempts: 0, baseDelayMs: 1 },
      })
      await expect(session.refresh()).resolves.toMatchObject({
        accessToken: 'access-2',
      })
      expect(calls).toBe(1)
    } finally {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
  })

  it('a late answer is taken while the retry is still out, and the retry is aborted', async () => {
    vi.useFakeTimers()
    const first = gate<unknown>()
    const signals: AbortSignal[] = []
    const session = createSession({
      // Ignores its signal, like a refresh function that cannot be aborted.
      refresh: ({ signal }) => {
        signals.push(signal)
        return signals.length === 1 ? first.promise : never()
      },
      storage: recordingStorage(old).storage,
      refreshTimeoutMs: 1_000,
      retry: fast,
    })
    const refreshed = session.refresh()
    await vi.advanceTimersByTimeAsync(1_010)
    expect(signals).toHaveLength(2)
    first.open({ access_token: 'late', refresh_token: 'late-refresh' })
    await expect(refreshed).resolves.toMatchObject({ accessToken: 'late' })
    expect(session.getSnapshot()).toMatchObject({
      status: 'authenticated',
      error: null,
      heldUntil: null,
    })
    expect(signals[1]!.aborted).toBe(true)
  })
})

describe('issue 14 items in createSession', () => {
  it('createSession without refresh fails at once, naming the fix', () => {
    expect(() => createSession({} as SessionOptions)).toThrow(
      /needs a refresh option.*oauth2Client/,
    )
    expect(() => createSession({} as SessionOptions)).toThrow(TokenflightError)
  })

  it('a superseded login rejects with a SessionExpiredError that says another change won', async () => {
    const answer = gate<unknown>()
    const session = createSession({
      refresh: async () => ({ access_token: 'x' }),
      login: () => answer.promise,
    })
    const login = session.login({})
    await flush()
    await session.setTokens({ accessToken: 'other' })
    answer.open({ access_token: 'mine' })
    const error = await login.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionExpiredError)
    expect((error as Error).message).toMatch(
      /superseded.*another token change/i,
    )
    expect(session.getSnapshot().tokens?.accessToken).toBe('other')
  })

  it('warns once in development when a storage fails and nobody listens', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const broken: TokenStorage = {
      get: () => old,
      set: () => {
        throw new Error('disk full')
      },
    }
    const session = createSession({
      refresh: async () => ({}),
      storage: broken,
    })
    await session.setTokens(old)
    await session.setTokens(old)
    expect(warn).toHaveBeenCalledOnce()
    expect(warn.mock.calls[0]![0]).toMatch(/storage set failed.*storageError/)

    warn.mockClear()
    const heard = createSession({ refresh: async () => ({}), storage: broken })
    heard.on('storageError', () => {})
    await heard.setTokens(old)
    vi.stubEnv('NODE_ENV', 'production')
    const quiet = createSession({ refresh: async () => ({}), storage: broken })
    await quiet.setTokens(old)
    expect(warn).not.toHaveBeenCalled()
    expect(StorageError).toBeDefined()
  })
})

describe('short tokens and refused tokens', () => {
  it('a token that lives shorter than the leeway is refreshed at half its lifetime, not on every use', async () => {
    let clock = 1_000_000
    let n = 1
    const refresh = vi.fn(async () => ({
      access_token: `access-${++n}`,
      expires_in: 5,
    }))
    const session = createSession({ refresh, now: () => clock })
    await session.setTokens({ access_token: 'access-1', expires_in: 5 })
    for (let i = 0; i < 5; i++) {
      expect(await session.getAccessToken()).toBe('access-1')
      clock += 400
    }
    expect(refresh).not.toHaveBeenCalled()
    clock += 600 // 2.4 s left of 5
    expect(await session.getAccessToken()).toBe('access-2')
    expect(refresh).toHaveBeenCalledOnce()
  })

  const refusing = () => {
    vi.useFakeTimers()
    let n = 1
    const refresh = vi.fn(async () => ({
      access_token: `access-${++n}`,
      expires_in: 900,
    }))
    const session = createSession({
      refresh,
      retry: { attempts: 0, baseDelayMs: 100 },
    })
    /** A refresh, then its retry answered `refused` (as a binding reports it). */
    const cycle = async (refused: boolean) => {
      const tokens = await session.refresh()
      session.reportRetry!(tokens, refused)
    }
    return { session, refresh, cycle }
  }

  it('refreshes whose retry was refused (a 401 forever) back off: 200, 400, 800 ms', async () => {
    const { session, refresh, cycle } = refusing()
    await session.setTokens({ access_token: 'access-1', expires_in: 900 })
    // The login's token was refused: refreshed at once; so was the new one.
    await cycle(true)
    expect(refresh).toHaveBeenCalledTimes(1)
    for (const [i, wait] of [200, 400, 800].entries()) {
      const refreshed = session.refresh()
      expect(session.getSnapshot().status).toBe('refreshing')
      await vi.advanceTimersByTimeAsync(wait - 1)
      expect(refresh).toHaveBeenCalledTimes(i + 1)
      await vi.advanceTimersByTimeAsync(1)
      // A burst: several retries of the same tokens refused count once.
      const tokens = await refreshed
      session.reportRetry!(tokens, true)
      session.reportRetry!(tokens, true)
      expect(refresh).toHaveBeenCalledTimes(i + 2)
    }
    // A new sign-in starts over.
    await session.setTokens({ access_token: 'other', expires_in: 900 })
    await session.refresh()
    expect(refresh).toHaveBeenCalledTimes(5)
  })

  it('tokens the server accepted, then revoked, refresh at once however often: no back-off', async () => {
    const { session, refresh, cycle } = refusing()
    await session.setTokens({ access_token: 'access-1', expires_in: 900 })
    await cycle(true)
    // This refresh waits 200 ms; its retry is accepted, which ends the back-off.
    const accepted = cycle(false)
    await vi.advanceTimersByTimeAsync(200)
    await accepted
    expect(refresh).toHaveBeenCalledTimes(2)
    for (let i = 0; i < 20; i++) await cycle(false)
    expect(refresh).toHaveBeenCalledTimes(22)
    // An app that calls refresh() itself (for new claims, say) never waits either.
    for (let i = 0; i < 20; i++) await session.refresh()
    expect(refresh).toHaveBeenCalledTimes(42)
  })

  it("a report for tokens that are no longer the session's counts for nothing", async () => {
    const { session, refresh } = refusing()
    await session.setTokens({ access_token: 'access-1', expires_in: 900 })
    const old = await session.refresh()
    const current = await session.refresh()
    session.reportRetry!(current, true)
    // A late retry of the older tokens was accepted: that says nothing about these.
    session.reportRetry!(old, false)
    const refreshed = session.refresh()
    await vi.advanceTimersByTimeAsync(199)
    expect(refresh).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(1)
    await refreshed
    expect(refresh).toHaveBeenCalledTimes(3)
  })
})
