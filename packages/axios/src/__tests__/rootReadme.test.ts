// The quick start of the repository's README.md, run against the mock server.
// Keep the two in step: a change to one is copied to the other.
import axios from 'axios'
import { createSession, oauth2Client, webStorage } from '@tokenflight/core'
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

/** localStorage in jsdom; the same Storage surface in Node. */
function storageForTest(): Storage {
  if (typeof localStorage !== 'undefined') return localStorage
  const data = new Map<string, string>()
  return {
    get length() {
      return data.size
    },
    clear: () => data.clear(),
    getItem: (key) => data.get(key) ?? null,
    key: (index) => [...data.keys()][index] ?? null,
    removeItem: (key) => void data.delete(key),
    setItem: (key, value) => void data.set(key, value),
  }
}

it('runs the README quick start: login, a stale token, one refresh, expiry', async () => {
  const localStorage = storageForTest()
  const shown: string[] = []
  const showLogin = (message: string) => shown.push(message)

  // --- README.md, "Quick start" ---
  const baseUrl = 'https://api.example.com' // POST /token, /refresh, /logout
  const session = createSession({
    ...oauth2Client({ baseUrl }), // login (form), refresh (JSON), logout
    storage: webStorage(localStorage), // survives a reload
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
  expect(localStorage.getItem('tokenflight')).toContain('refreshToken')

  server.revokeSessions('alice')
  await expect(api.get('/todos')).rejects.toMatchObject({
    name: 'RefreshError',
    terminal: true,
  })
  expect(session.getSnapshot().status).toBe('expired')
  expect(shown).toHaveLength(1)
  expect(localStorage.getItem('tokenflight')).toBeNull()
})
