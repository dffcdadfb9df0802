import { describe, expect, it, vi } from 'vitest'
import {
  InvalidTokenResponseError,
  RefreshError,
  RefreshTimeoutError,
  SessionExpiredError,
  TokenflightError,
  createSession,
} from '../index'
import type { SessionOptions, SessionStatus, TokenSet } from '../index'
import {
  fail,
  flush,
  gate,
  httpError,
  recordingStorage,
  scriptedRefresh,
} from './helpers'

const T0 = 1_700_000_000_000
const old: TokenSet = { accessToken: 'access-1', refreshToken: 'refresh-1' }
const fresh = { access_token: 'access-2', refresh_token: 'refresh-2' }
const fast = { attempts: 2, baseDelayMs: 1 }

/** A signed-in session plus what it did. */
function signedIn(options: Partial<SessionOptions> = {}) {
  const { storage, writes } = recordingStorage(old)
  const events = {
    refreshed: [] as unknown[],
    expired: [] as unknown[],
    loggedOut: [] as unknown[],
    refreshFailed: [] as unknown[],
    storageError: [] as unknown[],
    logoutFailed: [] as unknown[],
  }
  const session = createSession({
    refresh: async () => fresh,
    retry: fast,
    storage,
    ...options,
  })
  for (const name of Object.keys(events) as Array<keyof typeof events>)
    session.on(name, (e) => events[name].push(e))
  const statuses: SessionStatus[] = []
  session.subscribe(() => statuses.push(session.getSnapshot().status))
  return { session, writes, events, statuses }
}

describe('single flight', () => {
  it('shares one refresh call between 50 concurrent callers', async () => {
    const answer = gate<unknown>()
    const { refresh, calls } = scriptedRefresh(() => answer.promise)
    const { session } = signedIn({ refresh })
    const all = Array.from({ length: 50 }, () => session.refresh())
    expect(new Set(all).size).toBe(1)
    answer.open(fresh)
    const results = await Promise.all(all)
    expect(calls).toHaveLength(1)
    expect(new Set(results).size).toBe(1)
    expect(results[0]).toMatchObject({
      accessToken: 'access-2',
      refreshToken: 'refresh-2',
    })
  })

  it('holds 1,000 getAccessToken() callers on one refresh', async () => {
    const answer = gate<unknown>()
    const { refresh, calls } = scriptedRefresh(() => answer.promise)
    const { session } = signedIn({ refresh })
    void session.refresh()
    const tokens = Array.from({ length: 1000 }, () => session.getAccessToken())
    answer.open(fresh)
    expect(new Set(await Promise.all(tokens))).toEqual(new Set(['access-2']))
    expect(calls).toHaveLength(1)
  })

  it('starts a new call once the previous one settled', async () => {
    const { refresh, calls } = scriptedRefresh(fresh, {
      access_token: 'access-3',
    })
    const { session } = signedIn({ refresh })
    const first = session.refresh()
    await first
    const second = session.refresh()
    expect(second).not.toBe(first)
    expect((await second).accessToken).toBe('access-3')
    expect(calls).toHaveLength(2)
    expect(calls[1]?.tokens.refreshToken).toBe('refresh-2')
  })

  it('hands the current tokens and an AbortSignal to the refresh function', async () => {
    const { refresh, calls } = scriptedRefresh(fresh)
    const { session } = signedIn({ refresh })
    await session.refresh()
    expect(calls[0]?.tokens).toEqual(old)
    expect(calls[0]?.signal).toBeInstanceOf(AbortSignal)
    expect(calls[0]?.signal.aborted).toBe(false)
  })

  it('rejects with SessionExpiredError without calling refresh when there are no tokens', async () => {
    const refresh = vi.fn(async () => fresh)
    const session = createSession({ refresh })
    await expect(session.refresh()).rejects.toBeInstanceOf(SessionExpiredError)
    expect(refresh).not.toHaveBeenCalled()
    expect(session.getSnapshot().status).toBe('anonymous')
  })
})

describe('snapshot and generation', () => {
  it('returns the same snapshot until something changes', async () => {
    const { session } = signedIn()
    const first = session.getSnapshot()
    expect(session.getSnapshot()).toBe(first)
    expect(first).toEqual({
      status: 'authenticated',
      tokens: old,
      generation: 0,
      identity: 0,
      error: null,
      heldUntil: null,
    })
    await session.getAccessToken()
    expect(session.getSnapshot()).toBe(first)
    await session.refresh()
    const second = session.getSnapshot()
    expect(second).not.toBe(first)
    expect(session.getSnapshot()).toBe(second)
  })

  it('moves the generation on every token change and only then', async () => {
    const login = vi.fn(async () => ({ access_token: 'access-login' }))
    const { session } = signedIn({ login })
    const generation = () => session.getSnapshot().generation
    const seen: number[] = []
    session.subscribe(() => seen.push(generation()))

    await session.refresh() // refreshing (status only), then new tokens
    expect(generation()).toBe(1)
    await session.setTokens({ access_token: 'set' })
    expect(generation()).toBe(2)
    await session.logout()
    expect(generation()).toBe(3)
    await session.login({})
    expect(generation()).toBe(4)
    expect(seen).toEqual([0, 1, 2, 3, 4])
  })

  it('does not move the generation on a transient failure', async () => {
    const { session } = signedIn({ refresh: fail(httpError(503)) })
    await expect(session.refresh()).rejects.toThrow(RefreshError)
    expect(session.getSnapshot()).toMatchObject({
      generation: 0,
      status: 'authenticated',
      tokens: old,
    })
  })

  it('moves the generation when a terminal failure clears the tokens', async () => {
    const { session } = signedIn({ refresh: fail(httpError(401)) })
    await expect(session.refresh()).rejects.toThrow(RefreshError)
    expect(session.getSnapshot().generation).toBe(1)
  })

  it('notifies subscribers on every change; unsubscribe stops it', async () => {
    const { session } = signedIn()
    const listener = vi.fn()
    const unsubscribe = session.subscribe(listener)
    await session.refresh()
    expect(listener).toHaveBeenCalledTimes(2) // refreshing, authenticated
    unsubscribe()
    await session.refresh()
    expect(listener).toHaveBeenCalledTimes(2)
  })

  it('survives a listener or an event handler that throws', async () => {
    const { session } = signedIn()
    const after = vi.fn()
    session.subscribe(() => {
      throw new Error('listener bug')
    })
    session.subscribe(after)
    session.on('refreshed', () => {
      throw new Error('handler bug')
    })
    const refreshed = vi.fn()
    session.on('refreshed', refreshed)
    await expect(session.refresh()).resolves.toMatchObject({
      accessToken: 'access-2',
    })
    expect(after).toHaveBeenCalledTimes(2)
    expect(refreshed).toHaveBeenCalledTimes(1)
    expect(session.getSnapshot().status).toBe('authenticated')
  })

  it('on() returns an unsubscribe function', async () => {
    const { session } = signedIn()
    const handler = vi.fn()
    const off = session.on('refreshed', handler)
    off()
    await session.refresh()
    expect(handler).not.toHaveBeenCalled()
  })
})

describe('status and events', () => {
  it('goes anonymous → authenticated → refreshing → authenticated → anonymous', async () => {
    const login = vi.fn(async () => ({
      access_token: 'access-login',
      refresh_token: 'refresh-login',
      expires_in: 60,
    }))
    const session = createSession({
      refresh: async () => ({ ...fresh, expires_in: 120 }),
      login,
      now: () => T0,
    })
    const statuses: SessionStatus[] = [session.getSnapshot().status]
    session.subscribe(() => statuses.push(session.getSnapshot().status))
    const refreshed = vi.fn()
    const loggedOut = vi.fn()
    session.on('refreshed', refreshed)
    session.on('loggedOut', loggedOut)

    const credentials = { username: 'u', password: 'p' }
    await expect(session.login(credentials)).resolves.toEqual({
      accessToken: 'access-login',
      refreshToken: 'refresh-login',
      expiresAt: T0 + 60_000,
    })
    expect(login).toHaveBeenCalledWith(credentials, {
      signal: expect.any(AbortSignal),
    })
    await session.refresh()
    expect(refreshed).toHaveBeenCalledExactlyOnceWith({
      generation: 2,
      expiresAt: T0 + 120_000,
    })
    await session.logout()
    expect(loggedOut).toHaveBeenCalledExactlyOnceWith({ generation: 3 })
    expect(statuses).toEqual([
      'anonymous',
      'authenticated',
      'refreshing',
      'authenticated',
      'anonymous',
    ])
    expect(session.getSnapshot()).toEqual({
      status: 'anonymous',
      tokens: null,
      generation: 3,
      identity: 2,
      error: null,
      heldUntil: null,
    })
  })

  it('is refreshing synchronously once refresh() is called', () => {
    const { session } = signedIn({ refresh: () => new Promise(() => {}) })
    void session.refresh()
    expect(session.getSnapshot().status).toBe('refreshing')
  })
})

describe('terminal failures', () => {
  it.each([
    ['400 on error.status', Object.assign(new Error('x'), { status: 400 })],
    ['401 on error.response.status', httpError(401)],
    ['403 on error.response.status', httpError(403)],
    [
      'invalid_grant on error.response.data',
      httpError(500, { error: 'invalid_grant' }),
    ],
    ['invalid_grant on error.data', { data: { error: 'invalid_grant' } }],
  ])(
    '%s clears the tokens, expires the session, never retries',
    async (_, thrown) => {
      const refresh = vi.fn(fail(thrown))
      const { session, writes, events, statuses } = signedIn({ refresh })
      const waiting = Array.from({ length: 20 }, () => session.refresh())
      const results = await Promise.allSettled(waiting)
      const errors = results.map((r) => r.status === 'rejected' && r.reason)
      expect(new Set(errors).size).toBe(1)
      const error = errors[0] as RefreshError
      expect(error).toBeInstanceOf(RefreshError)
      expect(error.terminal).toBe(true)
      expect(error.cause).toBe(thrown)
      expect(refresh).toHaveBeenCalledTimes(1)
      expect(session.getSnapshot()).toEqual({
        status: 'expired',
        tokens: null,
        generation: 1,
        identity: 0,
        error,
        heldUntil: null,
      })
      expect(writes).toEqual([null])
      expect(events.expired).toEqual([{ error }])
      expect(events.refreshFailed).toEqual([{ error }])
      expect(statuses).toEqual(['refreshing', 'expired'])
      expect(await session.getAccessToken()).toBeNull()
      await expect(session.refresh()).rejects.toBeInstanceOf(
        SessionExpiredError,
      )
      expect(events.expired).toHaveLength(1)
    },
  )

  it('carries status and OAuth2 code on the RefreshError', async () => {
    const { session } = signedIn({
      refresh: fail(
        httpError(400, { error: 'invalid_grant', error_description: 'no' }),
      ),
    })
    await expect(session.refresh()).rejects.toMatchObject({
      terminal: true,
      status: 400,
      code: 'invalid_grant',
    })
  })

  it('lets a new login revive an expired session', async () => {
    const { session } = signedIn({
      refresh: fail(httpError(401)),
      login: async () => ({ access_token: 'again' }),
    })
    await expect(session.refresh()).rejects.toThrow(RefreshError)
    await session.login({})
    expect(session.getSnapshot()).toMatchObject({
      status: 'authenticated',
      error: null,
      heldUntil: null,
    })
    expect(await session.getAccessToken()).toBe('again')
  })
})

describe('transient failures', () => {
  it('retries a 5xx and succeeds', async () => {
    const { refresh, calls } = scriptedRefresh(fail(httpError(503)), fresh)
    const { session, events, statuses } = signedIn({ refresh })
    await expect(session.refresh()).resolves.toMatchObject({
      accessToken: 'access-2',
    })
    expect(calls).toHaveLength(2)
    expect(events.refreshFailed).toHaveLength(0)
    expect(statuses).toEqual(['refreshing', 'authenticated'])
    expect(session.getSnapshot().error).toBeNull()
  })

  it.each([
    ['a network TypeError', new TypeError('fetch failed')],
    ['a 500', httpError(500)],
    ['a 503 on error.status', { status: 503 }],
    ['a 429', httpError(429)],
    ['a thrown string', 'boom'],
  ])(
    '%s is retried `attempts` times, then refreshFailed fires once',
    async (_, thrown) => {
      const refresh = vi.fn(fail(thrown))
      const { session, events, statuses, writes } = signedIn({
        refresh,
        retry: { attempts: 3, baseDelayMs: 1 },
      })
      const waiting = [session.refresh(), session.refresh()]
      const [a, b] = await Promise.allSettled(waiting)
      const error = a?.status === 'rejected' && (a.reason as RefreshError)
      expect(b).toEqual({ status: 'rejected', reason: error })
      expect(error).toBeInstanceOf(RefreshError)
      expect(error).not.toBeInstanceOf(RefreshTimeoutError)
      expect(error && error.terminal).toBe(false)
      expect(error && error.cause).toBe(thrown)
      expect(refresh).toHaveBeenCalledTimes(4)
      expect(events.refreshFailed).toEqual([{ error }])
      expect(events.expired).toHaveLength(0)
      expect(statuses).toEqual(['refreshing', 'authenticated'])
      expect(session.getSnapshot()).toMatchObject({
        status: 'authenticated',
        tokens: old,
        generation: 0,
        error,
        heldUntil: null,
      })
      expect(writes).toEqual([])
    },
  )

  it('backs off exponentially with the real setTimeout', async () => {
    const delays: number[] = []
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
      fn: () => void,
      ms?: number,
    ) => {
      // Not the deadline, nor the macrotask it yields before it aborts.
      if (ms !== 10_000 && ms) delays.push(ms)
      fn()
      return 0
    }) as unknown as typeof setTimeout)
    try {
      const { session } = signedIn({
        refresh: fail(httpError(502)),
        retry: { attempts: 3, baseDelayMs: 100 },
      })
      await expect(session.refresh()).rejects.toThrow(RefreshError)
    } finally {
      spy.mockRestore()
    }
    expect(delays).toEqual([100, 200, 400])
  })

  it('makes a single try with attempts: 0', async () => {
    const refresh = vi.fn(fail(httpError(503)))
    const { session } = signedIn({
      refresh,
      retry: { attempts: 0, baseDelayMs: 1 },
    })
    await expect(session.refresh()).rejects.toThrow(RefreshError)
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('clears the error once a later refresh succeeds', async () => {
    const { refresh } = scriptedRefresh(
      fail(httpError(503)),
      fail(httpError(503)),
      fail(httpError(503)),
      fresh,
    )
    const { session } = signedIn({ refresh })
    await expect(session.refresh()).rejects.toThrow(RefreshError)
    expect(session.getSnapshot().error).toBeInstanceOf(RefreshError)
    await session.refresh()
    expect(session.getSnapshot().error).toBeNull()
  })
})

describe('isTerminal', () => {
  it('can make a 503 terminal', async () => {
    const isTerminal = vi.fn(() => true)
    const thrown = httpError(503)
    const { session } = signedIn({ refresh: fail(thrown), isTerminal })
    await expect(session.refresh()).rejects.toMatchObject({
      terminal: true,
      status: 503,
    })
    expect(isTerminal).toHaveBeenCalledWith(thrown)
    expect(session.getSnapshot().status).toBe('expired')
  })

  it('falls back to the default classification when it throws', async () => {
    const refresh = vi.fn(fail(httpError(401)))
    const { session } = signedIn({
      refresh,
      isTerminal: () => {
        throw new Error('bug in isTerminal')
      },
    })
    await expect(session.refresh()).rejects.toMatchObject({ terminal: true })
    expect(session.getSnapshot().status).toBe('expired')
  })

  it('can make a 401 transient', async () => {
    const refresh = vi.fn(fail(httpError(401)))
    const { session } = signedIn({ refresh, isTerminal: () => false })
    await expect(session.refresh()).rejects.toMatchObject({ terminal: false })
    expect(refresh).toHaveBeenCalledTimes(3)
    expect(session.getSnapshot().tokens).toEqual(old)
  })
})

describe('refreshTimeoutMs', () => {
  it('aborts the signal and rejects with RefreshTimeoutError', async () => {
    let signal: AbortSignal | undefined
    const { session, events } = signedIn({
      refreshTimeoutMs: 50,
      retry: { attempts: 0, baseDelayMs: 1 },
      refresh: (ctx) => {
        signal = ctx.signal
        return new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () =>
            reject(new DOMException('aborted', 'AbortError')),
          ),
        )
      },
    })
    const started = Date.now()
    const error = await session.refresh().catch((e: unknown) => e)
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(error).toBeInstanceOf(RefreshTimeoutError)
    expect(error).toBeInstanceOf(RefreshError)
    expect(error).toMatchObject({ terminal: false, timeoutMs: 50 })
    expect(signal?.aborted).toBe(true)
    expect(signal?.reason).toBe(error)
    expect(events.refreshFailed).toEqual([{ error }])
    expect(session.getSnapshot()).toMatchObject({
      status: 'authenticated',
      tokens: old,
    })
  })

  it('rejects even when the refresh function ignores the signal, and retries', async () => {
    const refresh = vi.fn(() => new Promise<never>(() => {}))
    const { session } = signedIn({
      refresh,
      refreshTimeoutMs: 30,
      retry: { attempts: 1, baseDelayMs: 1 },
    })
    void session.refresh().catch(() => {})
    const waiting = Array.from({ length: 5 }, () => session.getAccessToken())
    const results = await Promise.allSettled(waiting)
    for (const r of results) {
      expect(r.status).toBe('rejected')
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(
        RefreshTimeoutError,
      )
    }
    expect(refresh).toHaveBeenCalledTimes(2)
  })

  it('a late answer after the timeout is discarded', async () => {
    const answer = gate<unknown>()
    const { session } = signedIn({
      refresh: () => answer.promise,
      refreshTimeoutMs: 20,
      retry: { attempts: 0, baseDelayMs: 1 },
    })
    await expect(session.refresh()).rejects.toBeInstanceOf(RefreshTimeoutError)
    answer.open(fresh)
    await flush()
    expect(session.getSnapshot().tokens).toEqual(old)
  })
})

describe('malformed refresh bodies', () => {
  it.each([
    ['{}', {}],
    ['a non-JSON string', 'not json'],
    ['access_token: 42', { access_token: 42 }],
    ['expires_in: -1', { access_token: 'a', expires_in: -1 }],
    ["token_type 'mac'", { access_token: 'a', token_type: 'mac' }],
    ['null', null],
    ['an array', []],
  ])(
    '%s → RefreshError caused by InvalidTokenResponseError; nothing stored, no retry',
    async (_, body) => {
      const refresh = vi.fn(async () => body)
      const { session, writes, events } = signedIn({ refresh })
      const error = (await session
        .refresh()
        .catch((e: unknown) => e)) as RefreshError
      expect(error).toBeInstanceOf(RefreshError)
      expect(error.terminal).toBe(false)
      expect(error.cause).toBeInstanceOf(InvalidTokenResponseError)
      expect(refresh).toHaveBeenCalledTimes(1)
      expect(writes).toEqual([])
      expect(events.refreshFailed).toEqual([{ error }])
      expect(events.expired).toEqual([])
      expect(session.getSnapshot()).toMatchObject({
        status: 'authenticated',
        tokens: old,
        generation: 0,
        error,
        heldUntil: null,
      })
    },
  )

  it('recognises an InvalidTokenResponseError from another copy of the package', async () => {
    // Same brand and name, different class: what a CJS copy next to the ESM one throws.
    const foreign = Object.assign(new Error('bad body'), {
      name: 'InvalidTokenResponseError',
      [Symbol.for('tokenflight.error')]: true,
    })
    const refresh = vi.fn(fail(foreign))
    const { session } = signedIn({ refresh })
    await expect(session.refresh()).rejects.toMatchObject({
      terminal: false,
      cause: foreign,
    })
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('treats an InvalidTokenResponseError thrown by the refresh function the same way', async () => {
    const thrown = new InvalidTokenResponseError('bad body')
    const refresh = vi.fn(fail(thrown))
    const { session } = signedIn({ refresh })
    await expect(session.refresh()).rejects.toMatchObject({
      terminal: false,
      cause: thrown,
    })
    expect(refresh).toHaveBeenCalledTimes(1)
  })
})

describe('refresh token rotation', () => {
  it('stores a rotated refresh token', async () => {
    const { refresh, calls } = scriptedRefresh(fresh, {
      access_token: 'access-3',
      refresh_token: 'refresh-3',
    })
    const { session, writes } = signedIn({ refresh })
    await session.refresh()
    await session.refresh()
    expect(calls.map((c) => c.tokens.refreshToken)).toEqual([
      'refresh-1',
      'refresh-2',
    ])
    expect(writes.at(-1)).toEqual({
      accessToken: 'access-3',
      refreshToken: 'refresh-3',
    })
  })

  it('keeps the old refresh token when the body has none (RFC 6749 §6)', async () => {
    const { refresh, calls } = scriptedRefresh({ access_token: 'access-2' })
    const { session, writes } = signedIn({ refresh })
    await expect(session.refresh()).resolves.toEqual({
      accessToken: 'access-2',
      refreshToken: 'refresh-1',
    })
    await session.refresh()
    expect(calls[1]?.tokens.refreshToken).toBe('refresh-1')
    expect(writes.at(-1)?.refreshToken).toBe('refresh-1')
  })

  it('works without any refresh token (httpOnly cookie)', async () => {
    const session = createSession({
      refresh: async () => ({ access_token: 'cookie-2' }),
    })
    await session.setTokens({ accessToken: 'cookie-1' })
    await expect(session.refresh()).resolves.toEqual({
      accessToken: 'cookie-2',
    })
  })
})

describe('getAccessToken', () => {
  it('is null when anonymous', async () => {
    const session = createSession({ refresh: async () => fresh })
    expect(await session.getAccessToken()).toBeNull()
  })

  it('waits for an in-flight refresh and returns the new token', async () => {
    const answer = gate<unknown>()
    const { session } = signedIn({ refresh: () => answer.promise })
    void session.refresh()
    const token = session.getAccessToken()
    answer.open(fresh)
    expect(await token).toBe('access-2')
  })

  it('rejects with the RefreshError of a failed in-flight refresh', async () => {
    const answer = gate<unknown>()
    const { session } = signedIn({
      refresh: () => answer.promise,
      retry: { attempts: 0, baseDelayMs: 1 },
    })
    const refreshing = session.refresh()
    const token = session.getAccessToken()
    answer.fail(httpError(503))
    const error = await refreshing.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RefreshError)
    await expect(token).rejects.toBe(error)
  })

  describe('inside the leeway', () => {
    function clocked(options: Partial<SessionOptions> = {}) {
      let now = T0
      const refresh = vi.fn(async () => ({
        access_token: 'access-2',
        expires_in: 900,
      }))
      const session = createSession({
        refresh,
        now: () => now,
        retry: { attempts: 0, baseDelayMs: 1 },
        ...options,
      })
      return {
        session,
        refresh,
        advance: (ms: number) => (now += ms),
        setTokens: () =>
          session.setTokens({
            access_token: 'access-1',
            refresh_token: 'refresh-1',
            expires_in: 300,
          }),
      }
    }

    it('refreshes first when expiresAt - now < refreshLeewayMs', async () => {
      const { session, refresh, advance, setTokens } = clocked()
      await setTokens()
      advance(269_000) // 31 s left: outside the default 30 s leeway
      expect(await session.getAccessToken()).toBe('access-1')
      expect(refresh).not.toHaveBeenCalled()
      advance(2_000) // 29 s left
      const all = await Promise.all(
        Array.from({ length: 10 }, () => session.getAccessToken()),
      )
      expect(all).toEqual(Array(10).fill('access-2'))
      expect(refresh).toHaveBeenCalledTimes(1)
      expect(session.getSnapshot().tokens?.expiresAt).toBe(
        T0 + 271_000 + 900_000,
      )
    })

    it('honours a custom leeway', async () => {
      const { session, refresh, advance, setTokens } = clocked({
        refreshLeewayMs: 120_000,
      })
      await setTokens()
      advance(181_000) // 119 s left
      expect(await session.getAccessToken()).toBe('access-2')
      expect(refresh).toHaveBeenCalledTimes(1)
    })

    it('never refreshes early with refreshLeewayMs: 0', async () => {
      const { session, refresh, advance, setTokens } = clocked({
        refreshLeewayMs: 0,
      })
      await setTokens()
      advance(301_000) // even past expiry: the server will say 401
      expect(await session.getAccessToken()).toBe('access-1')
      expect(refresh).not.toHaveBeenCalled()
    })

    it('never refreshes early a token without expiresAt', async () => {
      const { session, refresh, advance } = clocked()
      await session.setTokens({ access_token: 'access-1' })
      advance(10_000_000)
      expect(await session.getAccessToken()).toBe('access-1')
      expect(refresh).not.toHaveBeenCalled()
    })

    it('returns the still-valid token when the early refresh fails transiently', async () => {
      const refresh = vi.fn(fail(httpError(503)))
      const { session, advance, setTokens } = clocked({ refresh })
      const failed = vi.fn()
      session.on('refreshFailed', failed)
      await setTokens()
      advance(280_000) // 20 s left
      const tokens = await Promise.all([
        session.getAccessToken(),
        session.getAccessToken(),
      ])
      expect(tokens).toEqual(['access-1', 'access-1'])
      expect(refresh).toHaveBeenCalledTimes(1)
      expect(failed).toHaveBeenCalledTimes(1)
      expect(session.getSnapshot().status).toBe('authenticated')

      // No new round of retries per call while that token still works…
      advance(10_000)
      expect(await session.getAccessToken()).toBe('access-1')
      expect(refresh).toHaveBeenCalledTimes(1)
      // …but a refresh() (say, after a 401) still goes out,
      await expect(session.refresh()).rejects.toThrow(RefreshError)
      expect(refresh).toHaveBeenCalledTimes(2)
      // and once it has expired, getAccessToken refreshes and waits again.
      advance(10_000)
      await expect(session.getAccessToken()).rejects.toThrow(RefreshError)
      expect(refresh).toHaveBeenCalledTimes(3)
    })

    it('tries early again for the next tokens after a failed early refresh', async () => {
      const { refresh } = scriptedRefresh(
        fail(httpError(503)),
        {
          access_token: 'access-2',
          expires_in: 20,
        },
        { access_token: 'access-3', expires_in: 900 },
      )
      const { session, advance, setTokens } = clocked({ refresh })
      await setTokens()
      advance(280_000)
      expect(await session.getAccessToken()).toBe('access-1')
      await session.refresh() // access-2, for 20 s: the leeway is 10 s for it
      advance(11_000)
      expect(await session.getAccessToken()).toBe('access-3')
    })

    it('rejects when the early refresh fails and the token has expired', async () => {
      const { session, advance, setTokens } = clocked({
        refresh: fail(httpError(503)),
      })
      await setTokens()
      advance(300_000)
      await expect(session.getAccessToken()).rejects.toMatchObject({
        terminal: false,
        status: 503,
      })
    })

    it('rejects when the early refresh fails terminally', async () => {
      const { session, advance, setTokens } = clocked({
        refresh: fail(httpError(401, { error: 'invalid_grant' })),
      })
      await setTokens()
      advance(280_000)
      await expect(session.getAccessToken()).rejects.toMatchObject({
        terminal: true,
      })
      expect(session.getSnapshot().status).toBe('expired')
    })
  })
})

describe('peekAccessToken', () => {
  const body = { access_token: 'access-1', refresh_token: 'r', expires_in: 300 }

  it('is the token only while getAccessToken would return it without waiting', async () => {
    let now = T0
    const answer = gate<unknown>()
    const refresh = vi.fn(() => answer.promise)
    const session = createSession({ refresh, now: () => now })
    expect(session.peekAccessToken?.()).toBeNull()

    await session.setTokens(body)
    expect(session.peekAccessToken?.()).toBe('access-1')
    now += 269_000 // 31 s left
    expect(session.peekAccessToken?.()).toBe('access-1')
    now += 2_000 // 29 s left: inside the leeway, where getAccessToken refreshes first
    expect(session.peekAccessToken?.()).toBeNull()
    expect(refresh).not.toHaveBeenCalled() // peeking never starts a refresh

    const token = session.getAccessToken()
    expect(session.peekAccessToken?.()).toBeNull() // refreshing
    answer.open({ access_token: 'access-2', expires_in: 900 })
    expect(await token).toBe('access-2')
    expect(session.peekAccessToken?.()).toBe('access-2')
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('is null while refresh() runs, and after a terminal failure', async () => {
    const answer = gate<unknown>()
    const session = createSession({ refresh: () => answer.promise })
    await session.setTokens(body)
    const refreshed = session.refresh()
    expect(session.peekAccessToken?.()).toBeNull()
    answer.fail(httpError(400, { error: 'invalid_grant' }))
    await expect(refreshed).rejects.toThrow(RefreshError)
    expect(session.getSnapshot().status).toBe('expired')
    expect(session.peekAccessToken?.()).toBeNull()
  })

  it('is the token even past expiry with refreshLeewayMs: 0, as getAccessToken is', async () => {
    let now = T0
    const session = createSession({
      refresh: async () => fresh,
      now: () => now,
      refreshLeewayMs: 0,
    })
    await session.setTokens(body)
    now += 301_000
    expect(session.peekAccessToken?.()).toBe('access-1')
  })

  it('is null until an async storage has been read', async () => {
    const stored = gate<TokenSet | null>()
    const session = createSession({
      refresh: async () => fresh,
      storage: { get: () => stored.promise, set: () => {} },
    })
    expect(session.peekAccessToken?.()).toBeNull()
    stored.open({ accessToken: 'stored' })
    expect(await session.getAccessToken()).toBe('stored')
    expect(session.peekAccessToken?.()).toBe('stored')
  })

  it('keeps a token whose early refresh failed transiently, until it expires', async () => {
    let now = T0
    const refresh = vi.fn(fail(httpError(503)))
    const session = createSession({
      refresh,
      now: () => now,
      retry: { attempts: 0, baseDelayMs: 1 },
    })
    await session.setTokens(body)
    now += 280_000 // 20 s left
    expect(await session.getAccessToken()).toBe('access-1')
    expect(session.peekAccessToken?.()).toBe('access-1')
    now += 20_000 // expired
    expect(session.peekAccessToken?.()).toBeNull()
    expect(refresh).toHaveBeenCalledTimes(1)
  })
})

describe('logout', () => {
  it('during a refresh: anonymous at once, waiters reject, the late result is discarded', async () => {
    const answer = gate<unknown>()
    let signal: AbortSignal | undefined
    const { session, writes, events } = signedIn({
      refresh: (ctx) => {
        signal = ctx.signal
        return answer.promise
      },
    })
    const refreshes = Array.from({ length: 5 }, () => session.refresh())
    const tokens = Array.from({ length: 5 }, () => session.getAccessToken())
    await flush()
    expect(session.getSnapshot().status).toBe('refreshing')

    const loggingOut = session.logout()
    expect(session.getSnapshot()).toEqual({
      status: 'anonymous',
      tokens: null,
      generation: 1,
      identity: 1,
      error: null,
      heldUntil: null,
    })
    expect(events.loggedOut).toEqual([{ generation: 1 }])
    expect(signal?.aborted).toBe(true)
    for (const r of await Promise.allSettled([...refreshes, ...tokens])) {
      expect(r.status).toBe('rejected')
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(
        SessionExpiredError,
      )
    }
    await loggingOut

    answer.open(fresh)
    await flush()
    expect(session.getSnapshot().status).toBe('anonymous')
    expect(session.getSnapshot().generation).toBe(1)
    expect(events.refreshed).toEqual([])
    expect(events.refreshFailed).toEqual([])
    expect(writes).toEqual([null])
    expect(await session.getAccessToken()).toBeNull()
  })

  it('during the backoff between retries: no further call', async () => {
    // Hold the backoff timer so that logout lands inside it, deterministically.
    const backoff = gate<() => void>()
    const realSetTimeout = globalThis.setTimeout
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
      fn: () => void,
      ms?: number,
    ) => {
      if (ms === 20) {
        backoff.open(fn)
        return 0
      }
      return realSetTimeout(fn, ms)
    }) as unknown as typeof setTimeout)
    try {
      const refresh = vi.fn(fail(httpError(503)))
      const { session, events } = signedIn({
        refresh,
        retry: { attempts: 3, baseDelayMs: 20 },
      })
      const refreshing = session.refresh()
      const wakeUp = await backoff.promise
      await session.logout()
      await expect(refreshing).rejects.toBeInstanceOf(SessionExpiredError)
      wakeUp()
      await flush()
      expect(refresh).toHaveBeenCalledTimes(1)
      expect(events.refreshFailed).toEqual([])
      expect(session.getSnapshot().status).toBe('anonymous')
    } finally {
      spy.mockRestore()
    }
  })

  it('calls the logout option with the old tokens, best effort', async () => {
    const logout = vi.fn(async () => {})
    const { session } = signedIn({ logout })
    await session.logout()
    expect(logout).toHaveBeenCalledExactlyOnceWith({
      tokens: old,
      signal: expect.any(AbortSignal),
    })
  })

  it('does not call the logout option when already anonymous', async () => {
    const logout = vi.fn(async () => {})
    const session = createSession({ refresh: async () => fresh, logout })
    await session.logout()
    expect(logout).not.toHaveBeenCalled()
  })

  it('resolves even when the logout option fails, and reports it', async () => {
    const thrown = httpError(500)
    const { session, events } = signedIn({ logout: fail(thrown) })
    await expect(session.logout()).resolves.toBeUndefined()
    expect(events.logoutFailed).toHaveLength(1)
    const { error } = events.logoutFailed[0] as { error: TokenflightError }
    expect(error).toBeInstanceOf(TokenflightError)
    expect(error.cause).toBe(thrown)
    expect(session.getSnapshot().status).toBe('anonymous')
  })

  it('gives up on a logout option that never answers after refreshTimeoutMs', async () => {
    let signal: AbortSignal | undefined
    const { session, events } = signedIn({
      refreshTimeoutMs: 20,
      logout: (ctx) => {
        signal = ctx.signal
        return new Promise(() => {})
      },
    })
    await session.logout()
    expect(signal?.aborted).toBe(true)
    expect(events.logoutFailed).toHaveLength(1)
  })

  it('from expired goes to anonymous without moving the generation', async () => {
    const { session } = signedIn({ refresh: fail(httpError(401)) })
    await expect(session.refresh()).rejects.toThrow(RefreshError)
    await session.logout()
    expect(session.getSnapshot()).toEqual({
      status: 'anonymous',
      tokens: null,
      generation: 1,
      identity: 1,
      error: null,
      heldUntil: null,
    })
  })
})

describe('login', () => {
  it('fails with a TokenflightError when no login function was given', async () => {
    const session = createSession({ refresh: async () => fresh })
    await expect(session.login({})).rejects.toBeInstanceOf(TokenflightError)
  })

  it('rejects a malformed body and stores nothing', async () => {
    const { storage, writes } = recordingStorage()
    const session = createSession({
      refresh: async () => fresh,
      login: async () => ({ access_token: 42 }),
      storage,
    })
    await expect(session.login({})).rejects.toBeInstanceOf(
      InvalidTokenResponseError,
    )
    expect(writes).toEqual([])
    expect(session.getSnapshot()).toMatchObject({
      status: 'anonymous',
      generation: 0,
    })
  })

  it("passes the login function's own error through", async () => {
    const thrown = httpError(401, { error: 'invalid_grant' })
    const session = createSession({
      refresh: async () => fresh,
      login: fail(thrown),
    })
    await expect(session.login({})).rejects.toBe(thrown)
    expect(session.getSnapshot().status).toBe('anonymous')
  })

  it('loses to a logout that happened while it ran', async () => {
    const answer = gate<unknown>()
    const { storage, writes } = recordingStorage()
    const session = createSession({
      refresh: async () => fresh,
      login: () => answer.promise,
      storage,
    })
    const loggingIn = session.login({})
    await flush()
    await session.logout()
    answer.open(fresh)
    await expect(loggingIn).rejects.toBeInstanceOf(SessionExpiredError)
    expect(session.getSnapshot().status).toBe('anonymous')
    expect(writes).toEqual([null])
  })

  it('during a refresh: waiters get the new login tokens', async () => {
    const answer = gate<unknown>()
    const { session } = signedIn({
      refresh: () => answer.promise,
      login: async () => ({ access_token: 'access-login' }),
    })
    const refreshing = session.refresh()
    const token = session.getAccessToken()
    await session.login({})
    expect(await token).toBe('access-login')
    expect((await refreshing).accessToken).toBe('access-login')
    answer.open(fresh)
    await flush()
    expect(session.getSnapshot().tokens?.accessToken).toBe('access-login')
  })
})

describe('setTokens', () => {
  it('normalizes a raw body with the injected clock', async () => {
    const session = createSession({
      refresh: async () => fresh,
      now: () => T0,
    })
    await session.setTokens({ access_token: 'a', expires_in: '60' })
    expect(session.getSnapshot().tokens).toEqual({
      accessToken: 'a',
      expiresAt: T0 + 60_000,
    })
  })

  it('clears to anonymous with null, without firing loggedOut', async () => {
    const { session, events, writes } = signedIn()
    await session.setTokens(null)
    expect(session.getSnapshot()).toMatchObject({
      status: 'anonymous',
      tokens: null,
      generation: 1,
    })
    expect(events.loggedOut).toEqual([])
    expect(writes).toEqual([null])
  })

  it('rejects a malformed value and keeps the current tokens', async () => {
    const { session, writes } = signedIn()
    await expect(session.setTokens({ access_token: '' })).rejects.toThrow(
      InvalidTokenResponseError,
    )
    expect(session.getSnapshot().tokens).toEqual(old)
    expect(writes).toEqual([])
  })
})
