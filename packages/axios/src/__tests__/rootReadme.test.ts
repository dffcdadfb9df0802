// The quick start of the repository's README.md, run against the mock server.
// Keep the two in step: a change to one is copied to the other.
import axios from 'axios'
import { browserStorage, createSession, oauth2Client } from '@tokenflight/core'
import {
  authHandlers,
  createAuthServer,
  DEFAULT_USER,
} from '@tokenflight/mock-server'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { attachSession } from '../attachSession'

const server = createAuthServer({
  users: [{ username: 'alice', password: 's3cret' }, DEFAULT_USER],
})
const msw = setupServer(
  ...authHandlers(server, { baseUrl: 'https://api.example.com' }),
)
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
afterAll(() => msw.close())

it('runs the README quick start: login, a stale token, one refresh, expiry', async () => {
  const shown: string[] = []
  const showLogin = (message: string) => shown.push(message)

  // --- README.md, "Quick start" ---
  const baseUrl = 'https://api.example.com' // POST /token, /refresh, /logout
  const session = createSession({
    ...oauth2Client({ baseUrl }), // login (form), refresh (JSON), logout
    storage: browserStorage(), // IndexedDB: survives a reload, one refresh for all tabs
  })
  const api = axios.create({ baseURL: baseUrl })
  attachSession(api, session) // tokens go to api.example.com only

  await session.login({ username: 'alice', password: 's3cret' })
  server.expireAccessTokens() // (not in the README: the token goes stale)
  const { data: todos } = await api.get('/todos') // 401 → one refresh → one retry
  session.on('expired', ({ error }) => showLogin(error.message)) // refresh token rejected
  // --- end of the snippet ---

  expect(Array.isArray(todos)).toBe(true)
  expect(server.stats.refreshes).toBe(1)
  expect(server.stats.unauthorized).toBe(1)
  // No IndexedDB here (Node, jsdom): browserStorage reports storageError and the session goes
  // on in memory, writing nowhere else. In a real browser: e2e/browser.
  if (typeof localStorage !== 'undefined') expect(localStorage.length).toBe(0)

  server.revokeSessions('alice')
  await expect(api.get('/todos')).rejects.toMatchObject({
    name: 'RefreshError',
    terminal: true,
  })
  expect(session.getSnapshot().status).toBe('expired')
  expect(shown).toHaveLength(1)
})
