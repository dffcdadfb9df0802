// Runs the README's TanStack Query example (tanstackQuery.example.ts) against the mock server.
import { readFileSync } from 'node:fs'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { RefreshError } from '@tokenflight/core'
import {
  DEFAULT_USER,
  authHandlers,
  createAuthServer,
} from '@tokenflight/mock-server'
import { bearer } from './harness'
import {
  HttpError,
  queryClient,
  session,
  todosQuery,
} from './tanstackQuery.example'

const API = 'https://api.example.com'
const auth = createAuthServer()
const msw = setupServer(...authHandlers(auth, { baseUrl: API }))

beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
afterEach(async () => {
  msw.resetHandlers()
  queryClient.clear()
  await session.logout()
  auth.reset()
})
afterAll(() => msw.close())

/** Records the bearer token of every GET /todos, then lets `answer` reply or passes it on. */
function todos(answer: (attempt: number) => Promise<Response | undefined>) {
  const seen: Array<string | null> = []
  msw.use(
    http.get(`${API}/todos`, ({ request }) => {
      seen.push(bearer(request))
      return answer(seen.length)
    }),
  )
  return seen
}

it('is in the README word for word', () => {
  const readme = readFileSync(
    new URL('../../README.md', import.meta.url),
    'utf8',
  )
  const example = readFileSync(
    new URL('./tanstackQuery.example.ts', import.meta.url),
    'utf8',
  )
  expect(readme).toContain(example.trim())
})

it('a retry after a refresh carries the new token, never the old one', async () => {
  await session.login(DEFAULT_USER)
  const old = session.getSnapshot().tokens?.accessToken
  const seen = todos(async (attempt) => {
    if (attempt > 1) return undefined
    // While the first attempt is at the server, the tokens rotate (another request's
    // refresh, another tab…) and the old access token dies; this attempt then fails.
    auth.expireAccessTokens()
    await session.refresh()
    return new HttpResponse(null, { status: 503 })
  })

  const data = await queryClient.fetchQuery(todosQuery)

  const fresh = session.getSnapshot().tokens?.accessToken
  expect(data).toHaveLength(2)
  expect(fresh).not.toBe(old)
  // The retry went out with the new token: no 401, no second refresh.
  expect(seen).toEqual([old, fresh])
  expect(auth.stats).toMatchObject({ refreshes: 1, unauthorized: 0 })
})

it('does not retry a query whose refresh failed: the session needs a login', async () => {
  await session.login(DEFAULT_USER)
  auth.revokeSessions()
  const seen = todos(async () => undefined)

  const error: unknown = await queryClient
    .fetchQuery(todosQuery)
    .catch((e: unknown) => e)

  expect(error).toBeInstanceOf(RefreshError)
  expect(session.getSnapshot().status).toBe('expired')
  expect(seen).toHaveLength(1)
})

it('does not retry a 401 that came after the refresh and retry', async () => {
  await session.login(DEFAULT_USER)
  const seen = todos(async () => new HttpResponse(null, { status: 401 }))

  const error: unknown = await queryClient
    .fetchQuery(todosQuery)
    .catch((e: unknown) => e)

  expect(error).toBeInstanceOf(HttpError)
  expect(error).toMatchObject({ status: 401 })
  // One send, one refresh, one retry; TanStack Query sent nothing more.
  expect(seen).toHaveLength(2)
  expect(auth.stats.refreshes).toBe(1)
})
