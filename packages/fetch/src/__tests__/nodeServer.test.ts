// End to end over real sockets: the mock server's node:http server and Node's own fetch.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RefreshError, createSession, oauth2Client } from '@tokenflight/core'
import type { TokenSet } from '@tokenflight/core'
import { DEFAULT_USER, createAuthServer } from '@tokenflight/mock-server'
import type { Todo } from '@tokenflight/mock-server'
import type * as NodeEntry from '@tokenflight/mock-server/node'
import { createFetch } from '../createFetch'
import type { AuthFetch } from '../createFetch'
import { isBrowser, signIn, times } from './harness'

// './node' is resolved only outside a browser, as its exports map intends.
describe.skipIf(isBrowser)('against the node:http mock server', () => {
  const auth = createAuthServer()
  let running: Awaited<ReturnType<typeof NodeEntry.startAuthServer>>

  beforeAll(async () => {
    // A computed specifier: the jsdom project must not try to resolve it statically.
    const nodeEntry = '@tokenflight/mock-server/node'
    const { startAuthServer } = (await import(
      /* @vite-ignore */ nodeEntry
    )) as typeof NodeEntry
    running = await startAuthServer(auth, { port: 0, host: '127.0.0.1' })
  })
  afterEach(() => auth.reset())
  afterAll(() => running.close())

  it('1,000 concurrent requests with a stale token: 1 refresh, 1,000 served', async () => {
    const { get } = await signIn({ baseUrl: running.url })
    auth.expireAccessTokens()

    const responses = await Promise.all(
      times(1_000, (i) => get(i % 2 ? '/me' : '/todos')),
    )

    expect(responses.every((r) => r.status === 200)).toBe(true)
    expect(auth.stats).toMatchObject({ refreshes: 1, served: 1_000 })
    await Promise.all(responses.map((r) => r.body?.cancel()))
    // Bounded: 1,000 sockets on loopback take seconds on a loaded 2-core machine.
  }, 60_000)

  it('20 stale POSTs: 1 refresh, 20 served, every body intact', async () => {
    const { get } = await signIn({ baseUrl: running.url })
    auth.expireAccessTokens()

    const created = await Promise.all(
      times(20, async (i) => {
        const response = await get('/todos', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ title: `todo ${i}` }),
        })
        return (await response.json()) as Todo
      }),
    )

    expect(created.map((t) => t.title)).toEqual(times(20, (i) => `todo ${i}`))
    expect(auth.stats).toMatchObject({ refreshes: 1, served: 20 })
  })

  it('refreshes through the fetch it serves (skipAuth), and a 401 from /refresh does not loop', async () => {
    let api: AuthFetch = fetch
    const session = createSession({
      ...oauth2Client({ baseUrl: running.url }),
      refresh: async ({ tokens, signal }): Promise<unknown> => {
        const response = await api(`${running.url}/refresh`, {
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
        return (await response.json()) as TokenSet
      },
      retry: { attempts: 0, baseDelayMs: 1 },
    })
    await session.login(DEFAULT_USER)
    api = createFetch(session, { allowedOrigins: [running.url] })

    auth.expireAccessTokens()
    await Promise.all(times(20, () => api(`${running.url}/me`)))
    expect(auth.stats).toMatchObject({ refreshes: 1, served: 20 })

    auth.expireAccessTokens()
    auth.inject({ endpoint: 'refresh', kind: 'status', status: 401, times: 5 })
    const errors = await Promise.allSettled(
      times(5, () => api(`${running.url}/me`)),
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
