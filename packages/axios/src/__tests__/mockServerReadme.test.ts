// api.test.ts: your API client tested against the mock auth server (vitest, MSW).
import { attachSession } from '@tokenflight/axios'
import { createSession, oauth2Client, RefreshError } from '@tokenflight/core'
import {
  authHandlers,
  createAuthServer,
  DEFAULT_USER,
} from '@tokenflight/mock-server'
import axios from 'axios'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'

const baseUrl = 'http://api.test'
const msw = setupServer()
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
afterEach(() => msw.resetHandlers()) // drop this test's auth server
afterAll(() => msw.close())

/** A fresh auth server and a signed-in client per test: no test depends on another's order. */
async function signedIn() {
  const auth = createAuthServer()
  msw.use(...authHandlers(auth, { baseUrl }))
  const session = createSession(oauth2Client({ baseUrl }))
  const api = axios.create({ baseURL: baseUrl })
  attachSession(api, session)
  await session.login(DEFAULT_USER)
  return { auth, session, api }
}

it('refreshes once when the access token expires', async () => {
  const { auth, api } = await signedIn()
  auth.expireAccessTokens() // every access token issued so far now gets a 401
  await Promise.all([api.get('/todos'), api.get('/me'), api.get('/todos')])
  expect(auth.stats.unauthorized).toBe(3)
  expect(auth.stats.refreshes).toBe(1)
})

it('holds the refresh until the test lets it go (deterministic races)', async () => {
  const { auth, session, api } = await signedIn()
  auth.expireAccessTokens()
  let open!: () => void
  auth.inject({
    endpoint: 'refresh',
    kind: 'gate',
    until: new Promise<void>((resolve) => (open = resolve)),
  })
  const requests = Array.from({ length: 5 }, () => api.get('/todos'))
  await expect.poll(() => session.getSnapshot().status).toBe('refreshing')
  open() // now /refresh answers normally
  await Promise.all(requests)
  expect(auth.stats.refreshes).toBe(1)
})

it('ends the session when a refresh answer is lost after rotation', async () => {
  const { auth, session, api } = await signedIn()
  auth.expireAccessTokens()
  auth.inject({ endpoint: 'refresh', kind: 'drop-after-rotate' })
  // The client sees a network error and retries with its old refresh token, already rotated
  // out: a replay, so the server revokes the whole token family.
  const error = await api.get('/todos').catch((e: unknown) => e)
  expect(error instanceof RefreshError && error.terminal).toBe(true)
  expect(auth.stats.reuseDetections).toBe(1)
  expect(session.getSnapshot().status).toBe('expired')
})
