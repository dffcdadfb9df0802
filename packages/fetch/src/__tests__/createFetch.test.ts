// The race tests of @tokenflight/axios, ported to createFetch, against the mock server's MSW handlers.
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
import {
  InvalidTokenResponseError,
  RefreshError,
  RefreshTimeoutError,
  SessionExpiredError,
  createSession,
  isTokenflightError,
  oauth2Client,
} from '@tokenflight/core'
import type { TokenSet } from '@tokenflight/core'
import {
  DEFAULT_USER,
  authHandlers,
  createAuthServer,
} from '@tokenflight/mock-server'
import { createFetch } from '../createFetch'
import {
  API,
  FOREIGN,
  bearer,
  count401s,
  counter,
  deferred,
  settle,
  signIn,
  streamOf,
  times,
  until,
} from './harness'

const auth = createAuthServer()
const msw = setupServer(...authHandlers(auth, { baseUrl: API }))

beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  msw.resetHandlers()
  // Also releases any request still held by a gate or a hang.
  auth.reset()
})
afterAll(() => msw.close())

/** Records the bearer token of every request to `path` on the API, then lets it through. */
function record(path: string) {
  const tokens: Array<string | null> = []
  msw.use(
    http.all(`${API}${path}`, ({ request }) => {
      tokens.push(bearer(request))
    }),
  )
  return tokens
}

const statuses = (responses: Response[]) => responses.map((r) => r.status)

describe('a burst of 401s', () => {
  it('refreshes once for 50 requests with a stale token and serves all 50', async () => {
    const { get } = await signIn()
    auth.expireAccessTokens()

    const responses = await Promise.all(times(50, () => get('/me')))

    expect(statuses(responses)).toEqual(Array(50).fill(200))
    expect(auth.stats.refreshes).toBe(1)
    expect(auth.stats.served).toBe(50)
  })

  it("never writes to the caller's init, headers or Request", async () => {
    const { api } = await signIn()
    auth.expireAccessTokens()
    // Frozen: any bookkeeping field written onto them would throw.
    const headers = Object.freeze({ 'X-Trace': '1' })
    const init = Object.freeze({ headers })
    const request = new Request(`${API}/me`, { headers: { 'X-Trace': '2' } })

    const responses = await Promise.all([api(`${API}/me`, init), api(request)])

    expect(statuses(responses)).toEqual([200, 200])
    expect(init).toEqual({ headers: { 'X-Trace': '1' } })
    expect([...request.headers]).toEqual([['x-trace', '2']])
    expect(auth.stats.refreshes).toBe(1)
  })

  it('retries 401s that arrive after the refresh finished without refreshing again', async () => {
    const { get, session } = await signIn()
    auth.expireAccessTokens()
    const held = deferred()
    const arrived = counter(5)
    // The first five /me requests reach the server with the old token and are held there.
    msw.use(
      http.get(`${API}/me`, async () => {
        if (arrived.seen >= 5) return
        arrived.count()
        await held.promise
      }),
    )
    const late = times(5, () => get('/me'))
    await arrived.reached

    expect((await get('/todos')).status).toBe(200)
    expect(auth.stats.refreshes).toBe(1)
    const { generation } = session.getSnapshot()

    held.resolve()
    const responses = await Promise.all(late)

    expect(statuses(responses)).toEqual(Array(5).fill(200))
    expect(auth.stats.refreshes).toBe(1)
    expect(auth.stats.unauthorized).toBe(6)
    expect(session.getSnapshot().generation).toBe(generation)
  })

  it('sends requests issued during a refresh only with the new token', async () => {
    const { get, session } = await signIn()
    const old = session.getSnapshot().tokens?.accessToken
    auth.expireAccessTokens()
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })
    const seen = record('/me')

    const first = get('/me')
    await until(session, (s) => s.status === 'refreshing')
    const during = times(10, () => get('/me'))
    gate.resolve()
    await Promise.all([first, ...during])

    const fresh = session.getSnapshot().tokens?.accessToken
    expect(fresh).not.toBe(old)
    expect(seen).toEqual([old, ...Array(11).fill(fresh)])
    expect(auth.stats.refreshes).toBe(1)
  })
})

describe('a failed refresh', () => {
  it('rejects all 20 waiting requests with the same terminal RefreshError', async () => {
    const waiting = count401s(20)
    const { get, session } = await signIn({ fetch: { fetch: waiting.fetch } })
    const expired = vi.fn()
    session.on('expired', expired)
    auth.expireAccessTokens()
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })

    const requests = times(20, () => get('/me'))
    await waiting.reached
    // The refresh token dies while the refresh is held: the server answers invalid_grant.
    auth.revokeSessions()
    gate.resolve()
    const errors = await settle(requests)

    expect(new Set(errors).size).toBe(1)
    const [error] = errors
    expect(error).toBeInstanceOf(RefreshError)
    expect(error).toMatchObject({ terminal: true, code: 'invalid_grant' })
    expect(session.getSnapshot()).toMatchObject({
      status: 'expired',
      tokens: null,
      error,
    })
    expect(expired).toHaveBeenCalledTimes(1)
    expect(auth.stats.refreshes).toBe(0)
  })

  it('rejects the late 401s of a refresh that failed without ending the session (422): no second refresh', async () => {
    const { get, session } = await signIn()
    auth.expireAccessTokens()
    const held = deferred()
    const arrived = counter(5)
    // Five /me requests reach the server with the old token and are held there.
    msw.use(
      http.get(`${API}/me`, async () => {
        if (arrived.seen >= 5) return
        arrived.count()
        await held.promise
      }),
    )
    const late = settle(times(5, () => get('/me')))
    await arrived.reached
    auth.inject({ endpoint: 'refresh', kind: 'status', status: 422 })
    const seen = record('/refresh')

    const error = await get('/todos').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RefreshError)
    expect(error).toMatchObject({ status: 422, terminal: false })
    held.resolve()
    const errors = await late

    expect(errors.every((e) => e === error)).toBe(true)
    expect(seen).toHaveLength(1)
    expect(session.getSnapshot()).toMatchObject({ status: 'authenticated' })
    // A request sent after the failure may try again: the session is not wedged.
    expect((await get('/me')).status).toBe(200)
    expect(seen).toHaveLength(2)
  })

  it('lets those late 401s join a newer refresh already in flight', async () => {
    const { get } = await signIn()
    auth.expireAccessTokens()
    const held = deferred()
    const arrived = counter(5)
    msw.use(
      http.get(`${API}/me`, async () => {
        if (arrived.seen >= 5) return
        arrived.count()
        await held.promise
      }),
    )
    const late = settle(times(5, () => get('/me')))
    await arrived.reached
    auth.inject({ endpoint: 'refresh', kind: 'status', status: 422 })
    const seen = record('/refresh')
    await expect(get('/todos')).rejects.toMatchObject({ status: 422 })
    // A request sent after that failure starts a second refresh, held at the server.
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })
    const second = get('/todos')
    await vi.waitFor(() => expect(seen).toHaveLength(2))

    held.resolve()
    gate.resolve()
    const results = [...(await late), await second] as Response[]

    expect(statuses(results)).toEqual(Array(6).fill(200))
    expect(seen).toHaveLength(2)
  })

  it('survives a 503 once and then succeeds', async () => {
    const { get, session } = await signIn({
      session: { retry: { attempts: 2, baseDelayMs: 5 } },
    })
    const failed = vi.fn()
    session.on('refreshFailed', failed)
    auth.expireAccessTokens()
    auth.inject({ endpoint: 'refresh', kind: 'status', status: 503 })
    const seen = record('/refresh')

    const responses = await Promise.all(times(5, () => get('/me')))

    expect(statuses(responses)).toEqual(Array(5).fill(200))
    expect(seen).toHaveLength(2)
    expect(auth.stats.refreshes).toBe(1)
    expect(failed).not.toHaveBeenCalled()
  })

  it('rejects with RefreshTimeoutError when the refresh never answers', async () => {
    const { get, session } = await signIn({
      session: { refreshTimeoutMs: 100 },
    })
    const before = session.getSnapshot().tokens
    auth.expireAccessTokens()
    auth.inject({ endpoint: 'refresh', kind: 'hang' })

    const started = performance.now()
    const errors = await settle([get('/me'), get('/todos')])
    const elapsed = performance.now() - started

    expect(errors[0]).toBeInstanceOf(RefreshTimeoutError)
    expect(errors[0]).toMatchObject({ timeoutMs: 100, terminal: false })
    expect(errors[1]).toBe(errors[0])
    // Loose on purpose: only proves it did not wait for the 10 s default.
    expect(elapsed).toBeLessThan(5_000)
    // Transient: the tokens are kept for the next try.
    expect(session.getSnapshot().tokens).toBe(before)
  })

  it.each([
    ['an empty object', '{}'],
    ['not JSON', 'not json'],
    ['a number for access_token', '{"access_token":42,"token_type":"bearer"}'],
  ])(
    'rejects a malformed body (%s) with InvalidTokenResponseError and stores nothing',
    async (_, body) => {
      let stored: TokenSet | null = null
      const set = vi.fn((tokens: TokenSet | null) => void (stored = tokens))
      const { get, session } = await signIn({
        session: { storage: { get: () => stored, set } },
      })
      const before = session.getSnapshot()
      set.mockClear()
      auth.expireAccessTokens()
      auth.inject({ endpoint: 'refresh', kind: 'malformed', body })

      const error: unknown = await get('/me').catch((e: unknown) => e)

      expect(error).toBeInstanceOf(RefreshError)
      expect((error as RefreshError).cause).toBeInstanceOf(
        InvalidTokenResponseError,
      )
      expect(session.getSnapshot().tokens).toBe(before.tokens)
      expect(session.getSnapshot().generation).toBe(before.generation)
      expect(set).not.toHaveBeenCalled()
      expect(stored).toBe(before.tokens)
    },
  )

  it('does not loop when the refresh endpoint answers 401 (refresh through oauth2Client)', async () => {
    const { get } = await signIn()
    auth.expireAccessTokens()
    auth.inject({ endpoint: 'refresh', kind: 'status', status: 401, times: 5 })
    const refreshes = record('/refresh')
    const me = record('/me')

    const error: unknown = await get('/me').catch((e: unknown) => e)

    expect(error).toBeInstanceOf(RefreshError)
    expect(error).toMatchObject({ terminal: true, status: 401 })
    expect(refreshes).toHaveLength(1)
    expect(me).toHaveLength(1)
  })

  it('does not loop when the refresh endpoint answers 401 (refresh through the same fetch, skipAuth)', async () => {
    // The session's refresh goes through the fetch it serves: `api` is set below.
    let api: ReturnType<typeof createFetch> = fetch
    const session = createSession({
      ...oauth2Client({ baseUrl: API }),
      refresh: async ({ tokens, signal }) => {
        const response = await api(`${API}/refresh`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ refresh_token: tokens.refreshToken }),
          skipAuth: true,
          signal,
        })
        if (!response.ok)
          throw Object.assign(new Error('refresh failed'), {
            status: response.status,
          })
        return response.json()
      },
      retry: { attempts: 0, baseDelayMs: 1 },
    })
    await session.login(DEFAULT_USER)
    api = createFetch(session, { allowedOrigins: [API] })
    const refreshes = record('/refresh')

    // It refreshes normally through the fetch it serves...
    auth.expireAccessTokens()
    await Promise.all(times(5, () => api(`${API}/me`)))
    expect(auth.stats.refreshes).toBe(1)
    expect(refreshes).toEqual([null])

    // ...and a 401 from the refresh endpoint ends in a terminal RefreshError, once.
    auth.expireAccessTokens()
    auth.inject({ endpoint: 'refresh', kind: 'status', status: 401, times: 5 })
    const error: unknown = await api(`${API}/me`).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(RefreshError)
    expect(error).toMatchObject({ terminal: true, status: 401 })
    expect(refreshes).toEqual([null, null])
    expect(session.getSnapshot().status).toBe('expired')
  })
})

describe('what never refreshes', () => {
  it('sends no token to a foreign origin and never refreshes on its 401', async () => {
    const { api } = await signIn()
    const seen: Array<string | null> = []
    msw.use(
      http.get(`${FOREIGN}/data`, ({ request }) => {
        seen.push(request.headers.get('authorization'))
        return new HttpResponse(null, { status: 401 })
      }),
    )

    const absolute = await api(`${FOREIGN}/data`)
    const asRequest = await api(new Request(`${FOREIGN}/data`))
    // A header the caller set for a foreign origin is theirs: left as it is.
    await api(`${FOREIGN}/data`, {
      headers: { Authorization: 'Basic dXNlcg==' },
    })

    expect([absolute.status, asRequest.status]).toEqual([401, 401])
    expect(seen).toEqual([null, null, 'Basic dXNlcg=='])
    expect(auth.stats.refreshes).toBe(0)
  })

  it('does not refresh on a 403', async () => {
    const { get } = await signIn()
    auth.inject({ endpoint: 'me', kind: 'status', status: 403 })

    const response = await get('/me')

    expect(response.status).toBe(403)
    expect(auth.stats.refreshes).toBe(0)
  })

  it('follows statusCodes and shouldRefresh', async () => {
    const shouldRefresh = vi.fn(
      (_: Response, request: Request) =>
        new URL(request.url).pathname !== '/todos',
    )
    const { get } = await signIn({
      fetch: { statusCodes: [401, 419], shouldRefresh },
    })
    auth.inject({ endpoint: 'me', kind: 'status', status: 419 })
    auth.inject({ endpoint: 'todos', kind: 'status', status: 401 })

    expect((await get('/me')).status).toBe(200)
    expect((await get('/todos')).status).toBe(401)
    expect(shouldRefresh).toHaveBeenCalledTimes(2)
    expect(shouldRefresh.mock.calls[0]?.[1].method).toBe('GET')
    expect(auth.stats.refreshes).toBe(1)
  })

  it('retries once: a final 401 is returned as a Response', async () => {
    const { get } = await signIn()
    auth.inject({ endpoint: 'me', kind: 'status', status: 401, times: 2 })
    const seen = record('/me')

    const response = await get('/me')

    expect(response.status).toBe(401)
    expect(seen).toHaveLength(2)
    expect(seen[0]).not.toBe(seen[1])
    expect(auth.stats.refreshes).toBe(1)
  })

  it('skipAuth sends no token and never refreshes', async () => {
    const { get } = await signIn()
    const seen = record('/me')

    const response = await get('/me', { skipAuth: true })

    expect(response.status).toBe(401)
    expect(seen).toEqual([null])
    expect(auth.stats.refreshes).toBe(0)
  })

  it('skipAuthRefresh sends the token but never refreshes', async () => {
    const { get, session } = await signIn()
    const seen = record('/me')
    auth.expireAccessTokens()

    const response = await get('/me', { skipAuthRefresh: true })

    expect(response.status).toBe(401)
    expect(seen).toEqual([session.getSnapshot().tokens?.accessToken])
    expect(auth.stats.refreshes).toBe(0)
  })

  it('sends no token and does not refresh when the session is anonymous', async () => {
    const { get, session } = await signIn()
    await session.logout()
    const seen = record('/me')

    const response = await get('/me')

    expect(response.status).toBe(401)
    expect(seen).toEqual([null])
    expect(auth.stats.refreshes).toBe(0)
  })

  it('uses headerName', async () => {
    const seen: Array<string | null> = []
    msw.use(
      http.get(`${API}/custom`, ({ request }) => {
        seen.push(request.headers.get('x-access-token'))
        return HttpResponse.json({})
      }),
    )
    const session = createSession({
      refresh: () => Promise.reject(new Error()),
    })
    await session.setTokens({ access_token: 'abc', token_type: 'bearer' })
    const api = createFetch(session, {
      allowedOrigins: [API],
      headerName: 'X-Access-Token',
    })

    await api(`${API}/custom`)

    expect(seen).toEqual(['Bearer abc'])
  })
})

describe('waiting requests', () => {
  it('an aborted request waiting for the token rejects at once with its reason; the others carry on', async () => {
    const { api, get, session } = await signIn()
    auth.expireAccessTokens()
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })
    const seen = record('/me')

    const first = get('/me')
    await until(session, (s) => s.status === 'refreshing')
    const controller = new AbortController()
    const aborted = get('/me', { signal: controller.signal })
    const inRequest = new AbortController()
    const abortedRequest = api(
      new Request(`${API}/me`, { signal: inRequest.signal }),
    )
    const other = get('/me')
    controller.abort()
    inRequest.abort(new Error('left the page'))

    const [abortError, requestError] = await settle([aborted, abortedRequest])
    expect(abortError).toMatchObject({ name: 'AbortError' })
    expect(requestError).toMatchObject({ message: 'left the page' })
    expect(session.getSnapshot().status).toBe('refreshing')

    gate.resolve()
    const responses = await Promise.all([first, other])
    expect(statuses(responses)).toEqual([200, 200])
    // The first request twice (401, retry) and the other once; the aborted ones never went out.
    expect(seen).toHaveLength(3)
  })

  it('an aborted request waiting for the refresh after its 401 rejects at once', async () => {
    const waiting = count401s(2)
    const { get, session } = await signIn({ fetch: { fetch: waiting.fetch } })
    auth.expireAccessTokens()
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })

    const controller = new AbortController()
    const aborted = get('/me', { signal: controller.signal })
    const other = get('/todos')
    await waiting.reached
    await until(session, (s) => s.status === 'refreshing')
    controller.abort()

    const [error] = await settle([aborted])
    expect(error).toMatchObject({ name: 'AbortError' })

    gate.resolve()
    expect((await other).status).toBe(200)
    expect(auth.stats.refreshes).toBe(1)
  })

  it('a request already aborted rejects without going out', async () => {
    const { get, session } = await signIn()
    const seen = record('/me')
    auth.expireAccessTokens()
    // A refresh in flight: the request waits for it, and its signal is already aborted.
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })
    void session.refresh()
    await until(session, (s) => s.status === 'refreshing')

    const [error] = await settle([get('/me', { signal: AbortSignal.abort() })])

    expect(error).toMatchObject({ name: 'AbortError' })
    expect(seen).toEqual([])
    gate.resolve()
  })

  it('logout during a refresh rejects the waiting requests with SessionExpiredError', async () => {
    const { session } = await signIn()
    // Observe the moment a request starts waiting for its token: the first one goes out
    // at once (peekAccessToken), the second asks during the refresh.
    const asked = counter(1)
    const api = createFetch(
      {
        ...session,
        getAccessToken: () => (asked.count(), session.getAccessToken()),
      },
      { allowedOrigins: [API] },
    )
    auth.expireAccessTokens()
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })

    const first = api(`${API}/me`)
    await until(session, (s) => s.status === 'refreshing')
    const errors = settle([first, api(`${API}/todos`)])
    await asked.reached
    await session.logout()
    gate.resolve()

    const [afterRefresh, waitingForToken] = await errors
    expect(afterRefresh).toBeInstanceOf(SessionExpiredError)
    expect(waitingForToken).toBeInstanceOf(SessionExpiredError)
    expect(session.getSnapshot()).toMatchObject({
      status: 'anonymous',
      tokens: null,
    })
    expect(auth.stats.served).toBe(0)
  })
})

describe('refresh tokens', () => {
  it('stores the rotated refresh token', async () => {
    const { get, session } = await signIn()
    const before = session.getSnapshot().tokens
    auth.expireAccessTokens()

    await get('/me')

    const after = session.getSnapshot().tokens
    expect(after?.refreshToken).toBeTruthy()
    expect(after?.refreshToken).not.toBe(before?.refreshToken)
    expect(after?.accessToken).not.toBe(before?.accessToken)
    expect(auth.stats.rotations).toBe(1)
  })

  it('refreshes proactively inside the leeway: the server sees no 401', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z')
    const now = () => clock
    const timed = createAuthServer({ now, accessTokenTtlSec: 60 })
    msw.use(...authHandlers(timed, { baseUrl: 'http://clock.test' }))
    const { get } = await signIn({
      baseUrl: 'http://clock.test',
      session: { now, refreshLeewayMs: 30_000 },
    })
    // Inside the leeway, still valid by the clock; the server rejects it anyway, so a
    // single 401 would show that a request went out with it.
    clock += 45_000
    timed.expireAccessTokens()

    const responses = await Promise.all(times(10, () => get('/me')))

    expect(statuses(responses)).toEqual(Array(10).fill(200))
    expect(timed.stats).toMatchObject({
      refreshes: 1,
      unauthorized: 0,
      served: 10,
    })
  })
})

describe('secrets', () => {
  // Every string reachable from an error, its own properties and its cause chain.
  function strings(value: unknown, seen = new Set<unknown>()): string[] {
    if (typeof value === 'string') return [value]
    if (typeof value !== 'object' || value === null || seen.has(value))
      return []
    seen.add(value)
    const keys = new Set([
      ...Reflect.ownKeys(value),
      ...(value instanceof Error ? ['message', 'cause'] : []),
    ])
    return [...keys].flatMap((key) =>
      strings((value as Record<PropertyKey, unknown>)[key], seen),
    )
  }

  it('puts no token in any error message or own property', async () => {
    const errors: unknown[] = []
    const secrets: string[] = []
    const collect = async (
      scenario: (signedIn: Awaited<ReturnType<typeof signIn>>) => Promise<void>,
      options?: Parameters<typeof signIn>[0],
    ) => {
      const signedIn = await signIn(options)
      const { tokens } = signedIn.session.getSnapshot()
      secrets.push(tokens?.accessToken ?? '', tokens?.refreshToken ?? '')
      errors.push(
        await scenario(signedIn).then(
          () => undefined,
          (e: unknown) => e,
        ),
      )
    }

    await collect(async ({ get }) => {
      auth.revokeSessions()
      await get('/me')
    })
    await collect(
      async ({ get }) => {
        auth.expireAccessTokens()
        auth.inject({ endpoint: 'refresh', kind: 'hang' })
        await get('/me')
      },
      { session: { refreshTimeoutMs: 50 } },
    )
    await collect(async ({ get, session }) => {
      const { tokens } = session.getSnapshot()
      auth.expireAccessTokens()
      auth.inject({
        endpoint: 'refresh',
        kind: 'malformed',
        // A body that echoes the tokens but is invalid: they must not reach the error.
        body: JSON.stringify({
          access_token: 42,
          refresh_token: tokens?.refreshToken,
          note: tokens?.accessToken,
        }),
      })
      await get('/me')
    })
    await collect(async ({ get, session }) => {
      auth.expireAccessTokens()
      const gate = deferred()
      auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })
      const request = settle([get('/me')])
      await until(session, (s) => s.status === 'refreshing')
      await session.logout()
      gate.resolve()
      throw (await request)[0]
    })
    await collect(async ({ get }) => {
      auth.expireAccessTokens()
      await get('/todos', {
        method: 'POST',
        body: streamOf('{"title":"x"}'),
        duplex: 'half',
      } as RequestInit)
    })

    expect(
      errors.map((e) => isTokenflightError(e) && (e as Error).name),
    ).toEqual([
      'RefreshError',
      'RefreshTimeoutError',
      'RefreshError',
      'SessionExpiredError',
      'UnreplayableBodyError',
    ])
    const found = errors.flatMap((e) => strings(e))
    expect(found.length).toBeGreaterThan(0)
    for (const secret of secrets.filter(Boolean))
      expect(found.filter((s) => s.includes(secret))).toEqual([])
  })
})
