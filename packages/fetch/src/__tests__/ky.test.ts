// kyAuth with the real ky, against the mock server's MSW handlers.
import ky, { HTTPError } from 'ky'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RefreshError, createSession, oauth2Client } from '@tokenflight/core'
import type { Session } from '@tokenflight/core'
import {
  DEFAULT_USER,
  authHandlers,
  createAuthServer,
} from '@tokenflight/mock-server'
import type { Todo } from '@tokenflight/mock-server'
import { kyAuth } from '../kyAuth'
import type { AuthOptions } from '../shared'
import { API, bearer, counter, deferred, settle, times, until } from './harness'

const auth = createAuthServer()
const msw = setupServer(...authHandlers(auth, { baseUrl: API }))

beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  msw.resetHandlers()
  auth.reset()
})
afterAll(() => msw.close())

async function signIn(options: AuthOptions = {}) {
  const session: Session = createSession({
    ...oauth2Client({ baseUrl: API }),
    retry: { attempts: 0, baseDelayMs: 1 },
  })
  await session.login(DEFAULT_USER)
  const api = ky.create({
    prefixUrl: API,
    hooks: kyAuth(session, { allowedOrigins: [API], ...options }),
  })
  return { session, api }
}

describe('kyAuth', () => {
  it('20 stale GETs: 1 refresh, 20 served', async () => {
    const { api } = await signIn()
    auth.expireAccessTokens()

    const bodies = await Promise.all(
      times(20, () => api.get('me').json<{ username: string }>()),
    )

    expect(bodies).toEqual(Array(20).fill({ username: DEFAULT_USER.username }))
    expect(auth.stats).toMatchObject({ refreshes: 1, served: 20 })
  })

  it('20 stale POSTs: 1 refresh, 20 served, every body intact', async () => {
    const { api } = await signIn()
    auth.expireAccessTokens()

    const created = await Promise.all(
      times(20, (i) =>
        api.post('todos', { json: { title: `todo ${i}` } }).json<Todo>(),
      ),
    )

    expect(created.map((t) => t.title)).toEqual(times(20, (i) => `todo ${i}`))
    expect(auth.stats).toMatchObject({
      refreshes: 1,
      served: 20,
      unauthorized: 20,
    })
  })

  it('merges with hooks of your own', async () => {
    const { session } = await signIn()
    const hooks = kyAuth(session, { allowedOrigins: [API] })
    const traced: string[] = []
    const api = ky.create({
      prefixUrl: API,
      hooks: {
        ...hooks,
        beforeRequest: [
          ...hooks.beforeRequest,
          (request) => void traced.push(bearer(request) ?? 'none'),
        ],
      },
    })
    auth.expireAccessTokens()

    await api.get('me')

    expect(traced).toEqual([expect.any(String)])
    expect(auth.stats.refreshes).toBe(1)
  })

  it('retries late 401s without refreshing again', async () => {
    const { api, session } = await signIn()
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
    const late = times(5, () => api.get('me'))
    await arrived.reached

    await api.get('todos')
    expect(auth.stats.refreshes).toBe(1)
    const { generation } = session.getSnapshot()

    held.resolve()
    const responses = await Promise.all(late)

    expect(responses.map((r) => r.status)).toEqual(Array(5).fill(200))
    expect(auth.stats.refreshes).toBe(1)
    expect(session.getSnapshot().generation).toBe(generation)
  })

  it('a failed refresh rejects with the RefreshError, which ky does not send again', async () => {
    const { api } = await signIn()
    auth.expireAccessTokens()
    auth.revokeSessions()

    const errors = await settle(times(5, () => api.get('me')))

    expect(new Set(errors).size).toBe(1)
    expect(errors[0]).toBeInstanceOf(RefreshError)
    expect(errors[0]).toMatchObject({ terminal: true })
    // One send each: ky's own retry (2 for a GET) did not send them again.
    expect(auth.stats.unauthorized).toBe(5)
  })

  it('retries once: a final 401 is ky’s HTTPError', async () => {
    const { api } = await signIn()
    auth.inject({ endpoint: 'me', kind: 'status', status: 401, times: 2 })

    const error: unknown = await api.get('me').catch((e: unknown) => e)

    expect(error).toBeInstanceOf(HTTPError)
    expect((error as HTTPError).response.status).toBe(401)
    expect(auth.stats.refreshes).toBe(1)
  })

  it('context.skipAuth sends no token; context.skipAuthRefresh never refreshes', async () => {
    const { api } = await signIn()
    const seen: Array<string | null> = []
    msw.use(
      http.get(`${API}/me`, ({ request }) => {
        seen.push(bearer(request))
      }),
    )
    auth.expireAccessTokens()

    const errors = await settle([
      api.get('me', { context: { skipAuth: true } }),
      api.get('me', { context: { skipAuthRefresh: true } }),
    ])

    expect(errors.map((e) => (e as HTTPError).response.status)).toEqual([
      401, 401,
    ])
    expect(seen).toEqual([null, expect.any(String)])
    expect(auth.stats.refreshes).toBe(0)
  })

  it('a request aborted while it waits for the token rejects at once', async () => {
    const { api, session } = await signIn()
    auth.expireAccessTokens()
    const gate = deferred()
    auth.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })
    void session.refresh()
    await until(session, (s) => s.status === 'refreshing')

    const controller = new AbortController()
    const aborted = api.get('me', { signal: controller.signal, retry: 0 })
    const other = api.get('me')
    controller.abort()

    const [error] = await settle([aborted])
    expect(error).toMatchObject({ name: 'AbortError' })
    gate.resolve()
    expect((await other).status).toBe(200)
    expect(auth.stats).toMatchObject({ refreshes: 1, served: 1 })
  })

  it('sends no token to a foreign origin', async () => {
    const { api } = await signIn()
    const seen: Array<string | null> = []
    msw.use(
      http.get('http://foreign.test/x', ({ request }) => {
        seen.push(request.headers.get('authorization'))
        return new HttpResponse(null, { status: 401 })
      }),
    )

    const error: unknown = await api
      .get('http://foreign.test/x', { prefixUrl: '' })
      .catch((e: unknown) => e)

    expect((error as HTTPError).response.status).toBe(401)
    expect(seen).toEqual([null])
    expect(auth.stats.refreshes).toBe(0)
  })
})
