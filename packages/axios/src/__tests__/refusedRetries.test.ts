// The back-off for a server that refuses what it just issued (a 401 forever) must not
// punish a session whose tokens the server accepts and later revokes: each of those
// refreshes starts at once, however many there were.
import { isAxiosError } from 'axios'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it,
  vi,
} from 'vitest'
import { SessionExpiredError } from '@tokenflight/core'
import { authHandlers, createAuthServer } from '@tokenflight/mock-server'
import { API, signIn, until } from './harness'

const auth = createAuthServer()
const msw = setupServer(...authHandlers(auth, { baseUrl: API }))

beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  msw.resetHandlers()
  auth.reset()
})
afterAll(() => msw.close())

// A back-off would wait a minute or more: long past the test's timeout.
const MINUTE = { retry: { attempts: 0, baseDelayMs: 60_000 } }

const macrotasks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0))
}

describe('refused retries and the back-off', () => {
  it('tokens revoked by the server again and again, with requests served between: every refresh starts at once', async () => {
    const { api, session } = await signIn({ session: MINUTE })
    const reports = vi.spyOn(session, 'reportRetry')
    for (let cycle = 1; cycle <= 8; cycle++) {
      auth.expireAccessTokens()
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => api.get('/me')),
      )
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200])
      expect(auth.stats.refreshes).toBe(cycle)
    }
    // Every retry told the session that the new tokens were accepted.
    expect(reports).toHaveBeenCalledTimes(40)
    expect(reports.mock.calls.every(([, refused]) => refused === false)).toBe(
      true,
    )
  }, 10_000)

  it('a server that refuses every new token: the next refresh waits (and a sign-out ends the wait)', async () => {
    const { api, session } = await signIn({ session: MINUTE })
    msw.use(
      http.get(`${API}/me`, () => new HttpResponse(null, { status: 401 })),
    )
    const reports = vi.spyOn(session, 'reportRetry')

    // The first 401: refreshed at once; the retry is refused too.
    const first: unknown = await api.get('/me').catch((e: unknown) => e)
    expect(isAxiosError(first) && first.response?.status).toBe(401)
    expect(auth.stats.refreshes).toBe(1)
    expect(reports).toHaveBeenCalledExactlyOnceWith(
      session.getSnapshot().tokens,
      true,
    )

    // The next 401 of those tokens: the refresh waits (2 minutes here) instead of going out.
    const second = api.get('/me').catch((e: unknown) => e)
    await until(session, (s) => s.status === 'refreshing')
    await macrotasks(20)
    expect(auth.stats.refreshes).toBe(1)

    await session.logout()
    expect(await second).toBeInstanceOf(SessionExpiredError)
    expect(auth.stats.refreshes).toBe(1)
  }, 10_000)
})
