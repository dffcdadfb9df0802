// Issue 15, point 1: a request sent as one user is never retried as another.
import { http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import {
  SessionExpiredError,
  createSession,
  oauth2Client,
} from '@tokenflight/core'
import {
  DEFAULT_USER,
  authHandlers,
  createAuthServer,
} from '@tokenflight/mock-server'
import { createFetch } from '../createFetch'
import { API, bearer, counter, deferred, until } from './harness'

const B = { username: 'bob', password: 'bob-password' }
const auth = createAuthServer({ users: [DEFAULT_USER, B] })
const msw = setupServer(...authHandlers(auth, { baseUrl: API }))

beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  msw.resetHandlers()
  auth.reset()
})
afterAll(() => msw.close())

it("rejects a request sent as A whose 401 comes after logout and B's login: never sent with B's token", async () => {
  const session = createSession({
    ...oauth2Client({ baseUrl: API }),
    retry: { attempts: 0, baseDelayMs: 1 },
  })
  await session.login(DEFAULT_USER)
  const api = createFetch(session, { allowedOrigins: [API] })
  const a = session.getSnapshot().tokens!.accessToken
  const seen: Array<string | null> = []
  const arrived = counter(1)
  msw.use(
    http.all(`${API}/me`, ({ request }) => {
      seen.push(bearer(request))
      arrived.count()
    }),
  )
  const held = deferred()
  auth.inject({ endpoint: 'me', kind: 'gate', until: held.promise })

  const request = api(`${API}/me`)
  await arrived.reached
  await session.logout()
  await session.login(B)
  const b = session.getSnapshot().tokens!.accessToken
  // A's request is answered 401 only now, while B is signed in.
  auth.expireAccessTokens()
  held.resolve()

  const error = await request.catch((e: unknown) => e)
  expect(error).toBeInstanceOf(SessionExpiredError)
  expect(seen).toEqual([a])
  expect(seen).not.toContain(b)
  expect(auth.stats.refreshes).toBe(0)
})

it('holdForLogin: a POST that meets a dead session is held, then sent once with the same user’s new token; never with another user’s', async () => {
  const session = createSession({
    ...oauth2Client({ baseUrl: API }),
    retry: { attempts: 0, baseDelayMs: 1 },
    holdForLogin: { timeoutMs: 60_000 },
  })
  await session.login(DEFAULT_USER)
  const api = createFetch(session, { allowedOrigins: [API] })
  const seen: Array<string | null> = []
  msw.use(
    http.post(`${API}/todos`, ({ request }) => {
      seen.push(bearer(request))
    }),
  )
  auth.revokeSessions()
  auth.expireAccessTokens()
  const post = (title: string) =>
    api(`${API}/todos`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title }),
    })
  const saved = post('kept')
  await until(session, (s) => s.heldUntil !== null)
  await session.login(DEFAULT_USER)
  const response = await saved
  expect(response.status).toBe(201)
  expect(((await response.json()) as { title: string }).title).toBe('kept')
  const fresh = session.getSnapshot().tokens!.accessToken
  expect(seen).toHaveLength(2)
  expect(seen[1]).toBe(fresh)

  // The same story, but B signs in: the held POST fails and never goes out as B.
  auth.revokeSessions()
  auth.expireAccessTokens()
  const lost = post('lost').catch((e: unknown) => e)
  await until(session, (s) => s.heldUntil !== null)
  await session.login(B)
  expect(await lost).toMatchObject({ name: 'RefreshError', terminal: true })
  expect(seen).toHaveLength(3)
  expect(seen).not.toContain(session.getSnapshot().tokens!.accessToken)
})
