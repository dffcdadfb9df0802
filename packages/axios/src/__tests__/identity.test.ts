// Issue 15, point 1: a request sent as one user is never retried as another.
import axios from 'axios'
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
import { attachSession } from '../attachSession'
import { API, bearer, counter, deferred } from './harness'

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
  const api = axios.create({ baseURL: API })
  attachSession(api, session)
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

  const request = api.get('/me')
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
