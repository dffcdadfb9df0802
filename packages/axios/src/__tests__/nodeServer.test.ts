// End to end over real sockets: the mock server's node:http server, axios' http and fetch adapters.
import { Agent } from 'node:http'
import axios from 'axios'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RefreshError, createSession, oauth2Client } from '@tokenflight/core'
import { DEFAULT_USER, createAuthServer } from '@tokenflight/mock-server'
import type * as NodeEntry from '@tokenflight/mock-server/node'
import { attachSession } from '../attachSession'
import { isBrowser, signIn } from './harness'

// './node' is resolved only outside a browser, as its exports map intends.
describe.skipIf(isBrowser)('against the node:http mock server', () => {
  const auth = createAuthServer()
  let running: Awaited<ReturnType<typeof NodeEntry.startAuthServer>>
  // Bounded like a real client: a keep-alive pool instead of 1,000 sockets.
  const httpAgent = new Agent({ keepAlive: true, maxSockets: 64 })

  beforeAll(async () => {
    // A computed specifier: the jsdom project must not try to resolve it statically.
    const nodeEntry = '@tokenflight/mock-server/node'
    const { startAuthServer } = (await import(
      /* @vite-ignore */ nodeEntry
    )) as typeof NodeEntry
    running = await startAuthServer(auth, { port: 0, host: '127.0.0.1' })
  })
  afterEach(() => auth.reset())
  afterAll(async () => {
    httpAgent.destroy()
    await running.close()
  })

  it('1,000 concurrent requests with a stale token: 1 refresh, 1,000 served', async () => {
    const { api } = await signIn({
      baseUrl: running.url,
      axios: { adapter: 'http', httpAgent },
    })
    auth.expireAccessTokens()

    const responses = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        i % 2 ? api.get('/me') : api.get('/todos'),
      ),
    )

    expect(responses.every((r) => r.status === 200)).toBe(true)
    expect(auth.stats).toMatchObject({ refreshes: 1, served: 1_000 })
  }, 30_000)

  it('works with the fetch adapter', async () => {
    const { api } = await signIn({
      baseUrl: running.url,
      axios: { adapter: 'fetch' },
    })
    auth.expireAccessTokens()

    const responses = await Promise.all(
      Array.from({ length: 20 }, () => api.get('/me')),
    )

    expect(responses.every((r) => r.status === 200)).toBe(true)
    expect(auth.stats).toMatchObject({ refreshes: 1, served: 20 })
  })

  it('refreshes through the instance it serves (skipAuth), and a 401 from /refresh does not loop', async () => {
    const api = axios.create({ baseURL: running.url, httpAgent })
    const session = createSession({
      ...oauth2Client({ baseUrl: running.url }),
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

    auth.expireAccessTokens()
    await Promise.all(Array.from({ length: 20 }, () => api.get('/me')))
    expect(auth.stats).toMatchObject({ refreshes: 1, served: 20 })

    auth.expireAccessTokens()
    auth.inject({ endpoint: 'refresh', kind: 'status', status: 401, times: 5 })
    const errors = await Promise.allSettled(
      Array.from({ length: 5 }, () => api.get('/me')),
    )

    const reasons = new Set(
      errors.map((r) => (r.status === 'rejected' ? r.reason : r.value)),
    )
    expect(reasons.size).toBe(1)
    const [error] = reasons
    expect(error).toBeInstanceOf(RefreshError)
    expect(error).toMatchObject({ terminal: true, status: 401 })
    // One injected 401 consumed: the refresh endpoint was called once.
    expect(auth.stats).toMatchObject({ refreshes: 1, faults: 1 })
    expect(session.getSnapshot().status).toBe('expired')
  })
})
