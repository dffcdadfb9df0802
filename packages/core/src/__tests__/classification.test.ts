import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  OAuth2HttpError,
  RefreshError,
  RefreshTimeoutError,
  createSession,
} from '../index'
import type { SessionOptions, TokenSet } from '../index'
import { toRefreshError } from '../toRefreshError'
import { fail, httpError, scriptedRefresh } from './helpers'

const old: TokenSet = { accessToken: 'access-1', refreshToken: 'refresh-1' }
const fresh = { access_token: 'access-2', refresh_token: 'refresh-2' }

/** An axios-shaped error whose response has headers (a plain object, as axios' toJSON gives). */
const withHeaders = (status: number, headers: unknown) =>
  Object.assign(httpError(status), {
    response: { status, data: undefined, headers },
  })

// Every wait the session asks setTimeout for, run at once (the deadline timers excepted).
let delays: number[] = []
function instantTimers(deadline = 10_000) {
  delays = []
  const real = setTimeout
  return vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
    fn: () => void,
    ms?: number,
  ) => {
    if (ms === deadline) return real(fn, ms)
    delays.push(ms ?? 0)
    fn()
    return 0
  }) as unknown as typeof setTimeout)
}
afterEach(() => vi.restoreAllMocks())

function session(options: Partial<SessionOptions>) {
  const failed: unknown[] = []
  const s = createSession({
    refresh: async () => fresh,
    retry: { attempts: 2, baseDelayMs: 1 },
    ...options,
  })
  void s.setTokens(old)
  s.on('refreshFailed', ({ error }) => failed.push(error))
  return { s, failed }
}

describe('a refresh that fails with a 4xx other than 400/401/403', () => {
  it.each([404, 405, 409, 410, 415, 422])(
    '%i: one call, not terminal, not retried, tokens kept, refreshFailed once',
    async (status) => {
      const refresh = vi.fn(fail(httpError(status)))
      const { s, failed } = session({ refresh })
      const error = await s.refresh().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(RefreshError)
      expect(error).toMatchObject({ status, terminal: false, retryable: false })
      expect(refresh).toHaveBeenCalledTimes(1)
      expect(s.getSnapshot()).toMatchObject({
        status: 'authenticated',
        tokens: old,
        error,
      })
      expect(failed).toEqual([error])
    },
  )

  it('is not retried even when isTerminal calls it non-terminal', async () => {
    const refresh = vi.fn(fail(httpError(422)))
    const { s } = session({ refresh, isTerminal: () => false })
    await expect(s.refresh()).rejects.toMatchObject({ retryable: false })
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('a second burst makes a second single call, not three', async () => {
    const refresh = vi.fn(fail(httpError(422)))
    const { s } = session({ refresh })
    await Promise.allSettled(Array.from({ length: 10 }, () => s.refresh()))
    await Promise.allSettled(Array.from({ length: 10 }, () => s.refresh()))
    expect(refresh).toHaveBeenCalledTimes(2)
  })
})

describe('transient failures: 408, 429, 5xx, network, timeout', () => {
  it.each([408, 429, 500, 502, 503, 504])(
    '%i is retried with backoff',
    async (status) => {
      const { refresh, calls } = scriptedRefresh(
        fail(httpError(status)),
        fail(httpError(status)),
        fresh,
      )
      const { s } = session({ refresh })
      await expect(s.refresh()).resolves.toMatchObject({
        accessToken: 'access-2',
      })
      expect(calls).toHaveLength(3)
    },
  )

  it('a network error (no status) and a timeout are retryable', () => {
    expect(
      toRefreshError(new TypeError('fetch failed'), undefined),
    ).toMatchObject({ terminal: false, retryable: true, status: undefined })
    expect(toRefreshError(new RefreshTimeoutError(5), undefined)).toMatchObject(
      { terminal: false, retryable: true },
    )
  })

  it('400, 401, 403 and invalid_grant are terminal and not retryable', () => {
    for (const error of [
      httpError(400),
      httpError(401),
      httpError(403),
      httpError(500, { error: 'invalid_grant' }),
    ])
      expect(toRefreshError(error, undefined)).toMatchObject({
        terminal: true,
        retryable: false,
        retryAfterMs: undefined,
      })
  })
})

describe('Retry-After', () => {
  it('waits what a 429 asks (delta-seconds) instead of the backoff', async () => {
    instantTimers()
    const { refresh, calls } = scriptedRefresh(
      fail(withHeaders(429, { 'retry-after': '2' })),
      fresh,
    )
    const { s } = session({ refresh, retry: { attempts: 2, baseDelayMs: 7 } })
    await s.refresh()
    expect(calls).toHaveLength(2)
    expect(delays).toEqual([2000])
  })

  it('reads Headers and AxiosHeaders-like objects, and HTTP dates', () => {
    const at = (value: string) =>
      toRefreshError(
        withHeaders(503, new Headers({ 'retry-after': value })),
        undefined,
        60_000,
      ).retryAfterMs
    expect(at('3')).toBe(3000)
    const inTenSeconds = new Date(Date.now() + 10_500).toUTCString()
    expect(at(inTenSeconds)).toBeGreaterThan(8_000)
    expect(at(inTenSeconds)).toBeLessThanOrEqual(10_500)
    expect(at(new Date(Date.now() - 60_000).toUTCString())).toBe(0)
    expect(at('soon')).toBeUndefined()
    const axiosLike = { get: (name: string) => name === 'retry-after' && '1' }
    expect(
      toRefreshError(withHeaders(429, axiosLike), undefined).retryAfterMs,
    ).toBe(1000)
  })

  it('a wait longer than refreshTimeoutMs is not waited: one call, transient, retryAfterMs kept', async () => {
    instantTimers(5_000)
    const refresh = vi.fn(fail(withHeaders(429, { 'retry-after': '30' })))
    const { s } = session({ refresh, refreshTimeoutMs: 5_000 })
    const error = await s.refresh().catch((e: unknown) => e)
    expect(error).toMatchObject({
      status: 429,
      terminal: false,
      retryable: false,
      retryAfterMs: 30_000,
    })
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(delays).toEqual([])
    expect(s.getSnapshot().tokens).toEqual(old)
  })

  it('without a refresh timeout any wait is within it', () => {
    expect(
      toRefreshError(withHeaders(429, { 'retry-after': '3600' }), undefined, 0),
    ).toMatchObject({ retryable: true, retryAfterMs: 3_600_000 })
  })

  it("is read from OAuth2HttpError's headers", () => {
    const error = new OAuth2HttpError(
      '/refresh',
      429,
      {},
      { headers: { 'retry-after': '1' } },
    )
    expect(toRefreshError(error, undefined, 10_000)).toMatchObject({
      status: 429,
      retryable: true,
      retryAfterMs: 1000,
    })
  })

  it('is ignored on a terminal answer', () => {
    expect(
      toRefreshError(withHeaders(401, { 'retry-after': '5' }), undefined),
    ).toMatchObject({ terminal: true, retryAfterMs: undefined })
  })
})
