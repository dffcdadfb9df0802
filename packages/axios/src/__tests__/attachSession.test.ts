import axios, { isAxiosError, isCancel } from 'axios'
import type { AxiosError } from 'axios'
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
import { attachSession } from '../attachSession'
import {
  API,
  FOREIGN,
  bearer,
  count401s,
  counter,
  deferred,
  isBrowser,
  settle,
  signIn,
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

const times = <T>(n: number, make: (i: number) => Promise<T>) =>
  Array.from({ length: n }, (_, i) => make(i))

describe('a burst of 401s', () => {
  it('refreshes once for 50 requests with a stale token and serves all 50', async () => {
    const { api } = await signIn()
    auth.expireAccessTokens()

    const responses = await Promise.all(times(50, () => api.get('/me')))

    expect(responses.every((r) => r.status === 200)).toBe(true)
    expect(auth.stats.refreshes).toBe(1)
    expect(auth.stats.served).toBe(50)
  })

  it.each(
    isBrowser ? (['fetch', 'xhr'] as const) : (['fetch', 'http'] as const),
  )('works the same with the %s adapter', async (adapter) => {
    const { api } = await signIn({ axios: { adapter } })
    auth.expireAccessTokens()

    const responses = await Promise.all(
      times(10, (i) => (i % 2 ? api.get('/me') : api.get('/todos'))),
    )

    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200))
    expect(auth.stats).toMatchObject({ refreshes: 1, served: 10 })
  })

  it("never writes to the caller's config", async () => {
    const { api } = await signIn()
    auth.expireAccessTokens()
    // Frozen: any bookkeeping field written onto it would throw.
    const headers = Object.freeze({ 'X-Trace': '1' })
    const config = Object.freeze({ url: '/me', headers })

    const response = await api.request(config)

    expect(response.status).toBe(200)
    expect(config).toEqual({ url: '/me', headers: { 'X-Trace': '1' } })
    expect(auth.stats.refreshes).toBe(1)
  })

  it('retries 401s that arrive after the refresh finished without refreshing again', async () => {
    const { api, session } = await signIn()
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
    const late = times(5, () => api.get('/me'))
    await arrived.reached

    await expect(api.get('/todos')).resolves.toMatchObject({ status: 200 })
    expect(auth.stats.refreshes).toBe(1)
    const { generation } = session.getSnapshot()

    held.resolve()
    const responses = await Promise.all(late)

    expect(responses.map((r) => r.status)).toEqual(Array(5).fill(200))
    expect(auth.stats.refreshes).toBe(1)
    expect(auth.stats.unauthorized).toBe(6)
    expect(session.getSnapshot().generation).toBe(generation)
  })

  it('sends requests issued during a refresh only with the new token', async () => {
    const { api, session } = await signIn()
    const old = session.getSnapshot().tokens?.accessToken
    auth.expireAccessTokens()
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })
    const seen = record('/me')

    const first = api.get('/me')
    await until(session, (s) => s.status === 'refreshing')
    const during = times(10, () => api.get('/me'))
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
    const { api, session } = await signIn({ before: waiting.before })
    const expired = vi.fn()
    session.on('expired', expired)
    auth.expireAccessTokens()
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })

    const requests = times(20, () => api.get('/me'))
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
    const { api, session } = await signIn()
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
    const late = settle(times(5, () => api.get('/me')))
    await arrived.reached
    auth.inject({ endpoint: 'refresh', kind: 'status', status: 422 })
    const seen = record('/refresh')

    const error = await api.get('/todos').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RefreshError)
    expect(error).toMatchObject({ status: 422, terminal: false })
    held.resolve()
    const errors = await late

    expect(errors.every((e) => e === error)).toBe(true)
    expect(seen).toHaveLength(1)
    expect(session.getSnapshot()).toMatchObject({ status: 'authenticated' })
    // A request sent after the failure may try again: the session is not wedged.
    await expect(api.get('/me')).resolves.toMatchObject({ status: 200 })
    expect(seen).toHaveLength(2)
  })

  it('lets those late 401s join a newer refresh already in flight', async () => {
    // 5 late + the one that met the 422 + the one that started the second refresh.
    const waiting = count401s(7)
    const { api } = await signIn({ before: waiting.before })
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
    const late = settle(times(5, () => api.get('/me')))
    await arrived.reached
    auth.inject({ endpoint: 'refresh', kind: 'status', status: 422 })
    const seen = record('/refresh')
    await expect(api.get('/todos')).rejects.toMatchObject({ status: 422 })
    // A request sent after that failure starts a second refresh, held at the server.
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })
    const second = api.get('/todos')
    await vi.waitFor(() => expect(seen).toHaveLength(2))

    held.resolve()
    await waiting.reached
    // Only microtasks separate the counting interceptor from ours: let them run.
    await new Promise((r) => setTimeout(r, 0))
    gate.resolve()
    const results = [...(await late), await second]

    expect(results.map((r) => (r as { status?: number }).status)).toEqual(
      Array(6).fill(200),
    )
    expect(seen).toHaveLength(2)
  })

  it('survives a 503 once and then succeeds', async () => {
    const { api, session } = await signIn({
      session: { retry: { attempts: 2, baseDelayMs: 5 } },
    })
    const failed = vi.fn()
    session.on('refreshFailed', failed)
    auth.expireAccessTokens()
    auth.inject({ endpoint: 'refresh', kind: 'status', status: 503 })
    const seen = record('/refresh')

    const responses = await Promise.all(times(5, () => api.get('/me')))

    expect(responses.map((r) => r.status)).toEqual(Array(5).fill(200))
    expect(seen).toHaveLength(2)
    expect(auth.stats.refreshes).toBe(1)
    expect(failed).not.toHaveBeenCalled()
  })

  it('rejects with RefreshTimeoutError when the refresh never answers', async () => {
    const { api, session } = await signIn({
      session: { refreshTimeoutMs: 100 },
    })
    const before = session.getSnapshot().tokens
    auth.expireAccessTokens()
    auth.inject({ endpoint: 'refresh', kind: 'hang' })

    const started = performance.now()
    const errors = await settle([api.get('/me'), api.get('/todos')])
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
      const { api, session } = await signIn({
        session: { storage: { get: () => stored, set } },
      })
      const before = session.getSnapshot()
      set.mockClear()
      auth.expireAccessTokens()
      auth.inject({ endpoint: 'refresh', kind: 'malformed', body })

      const error: unknown = await api.get('/me').catch((e: unknown) => e)

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
    const { api } = await signIn()
    auth.expireAccessTokens()
    auth.inject({ endpoint: 'refresh', kind: 'status', status: 401, times: 5 })
    const refreshes = record('/refresh')
    const me = record('/me')

    const error: unknown = await api.get('/me').catch((e: unknown) => e)

    expect(error).toBeInstanceOf(RefreshError)
    expect(error).toMatchObject({ terminal: true, status: 401 })
    expect(refreshes).toHaveLength(1)
    expect(me).toHaveLength(1)
  })

  it('does not loop when the refresh endpoint answers 401 (refresh through the same instance, skipAuth)', async () => {
    const api = axios.create({ baseURL: API })
    const session = createSession({
      ...oauth2Client({ baseUrl: API }),
      refresh: async ({ tokens, signal }) =>
        (
          await api.post(
            '/refresh',
            { refresh_token: tokens.refreshToken },
            { skipAuth: true, signal },
          )
        ).data,
      retry: { attempts: 0, baseDelayMs: 1 },
    })
    await session.login(DEFAULT_USER)
    attachSession(api, session)
    const refreshes = record('/refresh')

    // It refreshes normally through the instance it serves...
    auth.expireAccessTokens()
    await Promise.all(times(5, () => api.get('/me')))
    expect(auth.stats.refreshes).toBe(1)
    expect(refreshes).toEqual([null])

    // ...and a 401 from the refresh endpoint ends in a terminal RefreshError, once.
    auth.expireAccessTokens()
    auth.inject({ endpoint: 'refresh', kind: 'status', status: 401, times: 5 })
    const error: unknown = await api.get('/me').catch((e: unknown) => e)

    expect(error).toBeInstanceOf(RefreshError)
    expect(error).toMatchObject({ terminal: true, status: 401 })
    expect(isAxiosError((error as RefreshError).cause)).toBe(true)
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

    const absolute: unknown = await api
      .get(`${FOREIGN}/data`)
      .catch((e: unknown) => e)
    const perRequestBase: unknown = await api
      .get('/data', { baseURL: FOREIGN })
      .catch((e: unknown) => e)
    // A header the caller set for a foreign origin is theirs: left as it is.
    await api
      .get(`${FOREIGN}/data`, { headers: { Authorization: 'Basic dXNlcg==' } })
      .catch(() => undefined)

    expect((absolute as AxiosError).response?.status).toBe(401)
    expect((perRequestBase as AxiosError).response?.status).toBe(401)
    expect(seen).toEqual([null, null, 'Basic dXNlcg=='])
    expect(auth.stats.refreshes).toBe(0)
  })

  it('does not refresh on a 403', async () => {
    const { api } = await signIn()
    auth.inject({ endpoint: 'me', kind: 'status', status: 403 })

    const error: unknown = await api.get('/me').catch((e: unknown) => e)

    expect((error as AxiosError).response?.status).toBe(403)
    expect(auth.stats.refreshes).toBe(0)
  })

  it('follows statusCodes and shouldRefresh', async () => {
    const shouldRefresh = vi.fn(
      (error: AxiosError) => error.config?.url !== '/todos',
    )
    const { api } = await signIn({
      attach: { statusCodes: [401, 419], shouldRefresh },
    })
    auth.inject({ endpoint: 'me', kind: 'status', status: 419 })
    auth.inject({ endpoint: 'todos', kind: 'status', status: 401 })

    await expect(api.get('/me')).resolves.toMatchObject({ status: 200 })
    const error: unknown = await api.get('/todos').catch((e: unknown) => e)

    expect((error as AxiosError).response?.status).toBe(401)
    expect(shouldRefresh).toHaveBeenCalledTimes(2)
    expect(auth.stats.refreshes).toBe(1)
  })

  it('fails after one refresh when the resource rejects even the new token', async () => {
    const { api } = await signIn()
    auth.inject({ endpoint: 'me', kind: 'status', status: 401, times: 2 })
    const seen = record('/me')

    const error: unknown = await api.get('/me').catch((e: unknown) => e)

    expect(isAxiosError(error)).toBe(true)
    expect((error as AxiosError).response?.status).toBe(401)
    expect(seen).toHaveLength(2)
    expect(seen[0]).not.toBe(seen[1])
    expect(auth.stats.refreshes).toBe(1)
  })

  it('leaves no bookkeeping on error.config that a copy of it would carry', async () => {
    const { api } = await signIn()
    const bare = axios.create({ baseURL: API })
    auth.inject({ endpoint: 'me', kind: 'status', status: 403, times: 2 })
    const enumerable = (config: object) =>
      Reflect.ownKeys(config).filter((key) =>
        Object.prototype.propertyIsEnumerable.call(config, key),
      )

    // Sent with the token, failed with a status that does not refresh.
    const error = (await api.get('/me').catch((e: unknown) => e)) as AxiosError
    const plain = (await bare.get('/me').catch((e: unknown) => e)) as AxiosError
    expect(error.response?.status).toBe(403)
    const config = error.config!
    // Nothing a spread would copy beyond what axios itself puts there, but for the redirect
    // guard: it only takes the token header off a redirect to another origin, harmless in a
    // copy, and a plain property is ~2 µs a request cheaper than a hidden one (bench 4b).
    expect(enumerable(config).sort()).toEqual(
      [...enumerable(plain.config!), 'beforeRedirect'].sort(),
    )
    // The app's own retry of a copy, without tokenflight's token: its 401 is the app's
    // business. Were the generation copied along, tokenflight would refresh for it.
    config.headers.delete('Authorization')
    const again = (await api
      .request({ ...config, skipAuth: true })
      .catch((e: unknown) => e)) as AxiosError
    expect(again.response?.status).toBe(401)
    expect(auth.stats.refreshes).toBe(0)
  })

  it('skipAuth sends no token and never refreshes', async () => {
    const { api } = await signIn()
    const seen = record('/me')

    const error: unknown = await api
      .get('/me', { skipAuth: true })
      .catch((e: unknown) => e)

    expect((error as AxiosError).response?.status).toBe(401)
    expect(seen).toEqual([null])
    expect(auth.stats.refreshes).toBe(0)
  })

  it('skipAuthRefresh sends the token but never refreshes', async () => {
    const { api, session } = await signIn()
    const seen = record('/me')
    auth.expireAccessTokens()

    const error: unknown = await api
      .get('/me', { skipAuthRefresh: true })
      .catch((e: unknown) => e)

    expect((error as AxiosError).response?.status).toBe(401)
    expect(seen).toEqual([session.getSnapshot().tokens?.accessToken])
    expect(auth.stats.refreshes).toBe(0)
  })

  it('sends no token and does not refresh when the session is anonymous', async () => {
    const { api, session } = await signIn()
    await session.logout()
    const seen = record('/me')

    const error: unknown = await api.get('/me').catch((e: unknown) => e)

    expect((error as AxiosError).response?.status).toBe(401)
    expect(seen).toEqual([null])
    expect(auth.stats.refreshes).toBe(0)
  })

  it('detach() removes both interceptors', async () => {
    const { api, detach } = await signIn()
    const seen = record('/me')
    await api.get('/me')
    detach()
    auth.expireAccessTokens()

    const error: unknown = await api.get('/me').catch((e: unknown) => e)

    expect((error as AxiosError).response?.status).toBe(401)
    expect(seen).toHaveLength(2)
    expect(seen[1]).toBeNull()
    expect(auth.stats.refreshes).toBe(0)
    expect(api.interceptors.request.handlers?.filter(Boolean)).toEqual([])
    expect(api.interceptors.response.handlers?.filter(Boolean)).toEqual([])
  })
})

describe('waiting requests', () => {
  it('an aborted request waiting for the token rejects at once as a cancel; the others carry on', async () => {
    const { api, session } = await signIn()
    auth.expireAccessTokens()
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })
    const seen = record('/me')

    const first = api.get('/me')
    await until(session, (s) => s.status === 'refreshing')
    const controller = new AbortController()
    const aborted = api.get('/me', { signal: controller.signal })
    const source = axios.CancelToken.source()
    const canceled = api.get('/me', { cancelToken: source.token })
    const other = api.get('/me')
    controller.abort()
    source.cancel('left the page')

    const [abortError, cancelError] = await settle([aborted, canceled])
    expect(isCancel(abortError)).toBe(true)
    expect(isCancel(cancelError)).toBe(true)
    expect(cancelError).toMatchObject({ message: 'left the page' })
    expect(session.getSnapshot().status).toBe('refreshing')

    gate.resolve()
    const responses = await Promise.all([first, other])
    expect(responses.map((r) => r.status)).toEqual([200, 200])
    // The first request twice (401, retry) and the other once; the aborted ones never went out.
    expect(seen).toHaveLength(3)
  })

  it('an aborted request waiting for the refresh after its 401 rejects at once', async () => {
    const waiting = count401s(2)
    const { api, session } = await signIn({ before: waiting.before })
    auth.expireAccessTokens()
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })

    const controller = new AbortController()
    const aborted = api.get('/me', { signal: controller.signal })
    const other = api.get('/todos')
    await waiting.reached
    await until(session, (s) => s.status === 'refreshing')
    controller.abort()

    const [error] = await settle([aborted])
    expect(isCancel(error)).toBe(true)

    gate.resolve()
    await expect(other).resolves.toMatchObject({ status: 200 })
    expect(auth.stats.refreshes).toBe(1)
  })

  it('a request already aborted or canceled rejects as a cancel without going out', async () => {
    const { api } = await signIn()
    const seen = record('/me')

    const source = axios.CancelToken.source()
    source.cancel('gone')

    const errors = await settle([
      api.get('/me', { signal: AbortSignal.abort() }),
      api.get('/me', { cancelToken: source.token }),
    ])

    expect(errors.map((e) => isCancel(e))).toEqual([true, true])
    expect(errors[1]).toMatchObject({ message: 'gone' })
    expect(seen).toEqual([])
  })

  it('logout during a refresh rejects the waiting requests with SessionExpiredError', async () => {
    const { api, session, detach } = await signIn()
    // Observe the moment a request starts waiting for its token: the first one goes out
    // at once (peekAccessToken), the second asks during the refresh.
    const asked = counter(1)
    detach()
    attachSession(api, {
      ...session,
      getAccessToken: () => (asked.count(), session.getAccessToken()),
    })
    auth.expireAccessTokens()
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })

    const first = api.get('/me')
    await until(session, (s) => s.status === 'refreshing')
    const errors = settle([first, api.get('/todos')])
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
    const { api, session } = await signIn()
    const before = session.getSnapshot().tokens
    auth.expireAccessTokens()

    await api.get('/me')

    const after = session.getSnapshot().tokens
    expect(after?.refreshToken).toBeTruthy()
    expect(after?.refreshToken).not.toBe(before?.refreshToken)
    expect(after?.accessToken).not.toBe(before?.accessToken)
    expect(auth.stats.rotations).toBe(1)
  })

  it('keeps the refresh token when the server does not rotate it', async () => {
    const client = oauth2Client({ baseUrl: API })
    const { api, session } = await signIn({
      session: {
        // A server that does not rotate answers without refresh_token (RFC 6749 §6).
        refresh: async (ctx) => {
          const body = (await client.refresh(ctx)) as Record<string, unknown>
          delete body.refresh_token
          return body
        },
      },
    })
    const before = session.getSnapshot().tokens
    auth.expireAccessTokens()

    await expect(api.get('/me')).resolves.toMatchObject({ status: 200 })

    const after = session.getSnapshot().tokens
    expect(after?.accessToken).not.toBe(before?.accessToken)
    expect(after?.refreshToken).toBe(before?.refreshToken)
  })

  it('refreshes proactively inside the leeway: the server sees no 401', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z')
    const now = () => clock
    const timed = createAuthServer({ now, accessTokenTtlSec: 60 })
    msw.use(...authHandlers(timed, { baseUrl: 'http://clock.test' }))
    const { api } = await signIn({
      baseUrl: 'http://clock.test',
      session: { now, refreshLeewayMs: 30_000 },
    })
    // Inside the leeway, still valid by the clock; the server rejects it anyway, so a
    // single 401 would show that a request went out with it.
    clock += 45_000
    timed.expireAccessTokens()

    const responses = await Promise.all(times(10, () => api.get('/me')))

    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200))
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
      scenario: (api: Awaited<ReturnType<typeof signIn>>) => Promise<void>,
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

    await collect(async ({ api }) => {
      auth.revokeSessions()
      await api.get('/me')
    })
    await collect(
      async ({ api }) => {
        auth.expireAccessTokens()
        auth.inject({ endpoint: 'refresh', kind: 'hang' })
        await api.get('/me')
      },
      { session: { refreshTimeoutMs: 50 } },
    )
    await collect(async ({ api, session }) => {
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
      await api.get('/me')
    })
    await collect(async ({ api, session }) => {
      auth.expireAccessTokens()
      const gate = deferred()
      auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })
      const request = settle([api.get('/me')])
      await until(session, (s) => s.status === 'refreshing')
      await session.logout()
      gate.resolve()
      throw (await request)[0]
    })

    expect(
      errors.map((e) => isTokenflightError(e) && (e as Error).name),
    ).toEqual([
      'RefreshError',
      'RefreshTimeoutError',
      'RefreshError',
      'SessionExpiredError',
    ])
    const found = errors.flatMap((e) => strings(e))
    expect(found.length).toBeGreaterThan(0)
    for (const secret of secrets.filter(Boolean))
      expect(found.filter((s) => s.includes(secret))).toEqual([])
  })

  it('puts no token in the message of an axios error it passes on', async () => {
    const { api, session } = await signIn()
    const token = session.getSnapshot().tokens?.accessToken ?? ''
    auth.inject({ endpoint: 'me', kind: 'status', status: 401, times: 2 })

    const error: unknown = await api.get('/me').catch((e: unknown) => e)

    expect(isAxiosError(error)).toBe(true)
    expect(token).not.toBe('')
    expect((error as AxiosError).message).not.toContain(token)
  })
})
