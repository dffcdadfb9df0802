// The same FastAPI backend through @tokenflight/fetch instead of axios: a burst after expiry,
// POST bodies intact on the retry, a replayed refresh token ending the session with one typed
// error, and the tutorial's query-parameter refresh with its 422 when the client sends JSON.
import {
  RefreshError,
  createSession,
  isTokenflightError,
  oauth2Client,
} from '@tokenflight/core'
import type { OAuth2ClientOptions } from '@tokenflight/core'
import { createFetch } from '@tokenflight/fetch'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fastapiMissing, startFastapi } from './startFastapi'
import type { FastapiServer } from './startFastapi'

const USER = { username: 'demo', password: 'demo-password' }
const missing = fastapiMissing()
if (missing && process.env.TOKENFLIGHT_REQUIRE_FASTAPI === '1')
  throw new Error(`TOKENFLIGHT_REQUIRE_FASTAPI=1, but ${missing}`)
const suite = (name: string, body: () => void) =>
  missing
    ? describe.skip(`${name} (skipped: ${missing})`, body)
    : describe(name, body)

/** One client as a user writes it: oauth2Client spread into createSession, fetch wrapped. */
function client(
  server: FastapiServer,
  oauth: Partial<OAuth2ClientOptions> = {},
) {
  const session = createSession({
    ...oauth2Client({ baseUrl: server.url, ...oauth }),
    refreshLeewayMs: 0,
    retry: { attempts: 2, baseDelayMs: 20 },
  })
  const api = createFetch(session, { allowedOrigins: [server.url] })
  return { session, api }
}

/** Fires `n` requests at once; the statuses of those that answered, the errors of the rest. */
async function burst(n: number, send: (i: number) => Promise<Response>) {
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => send(i)),
  )
  return {
    statuses: results.flatMap((r) =>
      r.status === 'fulfilled' ? [r.value.status] : [],
    ),
    errors: results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : [])),
  }
}

suite('createFetch against examples/fastapi', () => {
  let server: FastapiServer
  beforeAll(async () => {
    server = await startFastapi()
  })
  afterAll(() => server?.stop())
  beforeEach(() => server.reset())

  it('a burst of 50 after expiry: 1 refresh, 50/50 served', async () => {
    const { session, api } = client(server)
    await session.login(USER)
    await server.expireAccessTokens()
    const { statuses, errors } = await burst(50, () =>
      api(`${server.url}/todos`),
    )
    expect(errors).toEqual([])
    expect(statuses).toEqual(Array(50).fill(200))
    const stats = await server.stats()
    expect(stats.calls['/refresh']).toBe(1)
    expect(stats.unauthorized).toBeGreaterThan(0)
  })

  it('20 stale POSTs: each retried once with its own body', async () => {
    const { session, api } = client(server)
    await session.login(USER)
    await server.expireAccessTokens()
    const { statuses, errors } = await burst(20, (i) =>
      api(`${server.url}/todos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: `item ${i}` }),
      }),
    )
    expect(errors).toEqual([])
    expect(statuses.every((s) => s === 200 || s === 201)).toBe(true)
    const list = (await (await api(`${server.url}/todos`)).json()) as Array<{
      title: string
    }>
    const titles = list.map((t) => t.title).filter((t) => t.startsWith('item '))
    expect(titles.sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `item ${i}`).sort(),
    )
    expect((await server.stats()).calls['/refresh']).toBe(1)
  })

  it('replay: the family is revoked, every waiting request gets one terminal RefreshError, no loop', async () => {
    const { session, api } = client(server)
    await session.login(USER)
    const stolen = session.getSnapshot().tokens!.refreshToken!
    await server.expireAccessTokens()
    expect((await api(`${server.url}/me`)).status).toBe(200)
    const replayed = await fetch(`${server.url}/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: stolen }),
    })
    expect(replayed.status).toBe(400)
    await server.expireAccessTokens()
    const { statuses, errors } = await burst(20, () =>
      api(`${server.url}/todos`),
    )
    expect(statuses).toEqual([])
    expect(new Set(errors).size).toBe(1)
    expect(errors[0]).toBeInstanceOf(RefreshError)
    expect(errors[0]).toMatchObject({ terminal: true, code: 'invalid_grant' })
    expect(session.getSnapshot().status).toBe('expired')
    // The rotation, the replay, the one terminal refresh.
    expect((await server.stats()).calls['/refresh']).toBe(3)
  })
})

suite('createFetch against the tutorial-query variant', () => {
  let server: FastapiServer
  beforeAll(async () => {
    server = await startFastapi(['--contract', 'tutorial-query'])
  })
  afterAll(() => server?.stop())
  beforeEach(() => server.reset())

  it("refreshBody: 'query': one refresh per burst, 30/30 served", async () => {
    const { session, api } = client(server, {
      refreshBody: 'query',
      logoutPath: false,
    })
    await session.login(USER)
    await server.expireAccessTokens()
    const { statuses, errors } = await burst(30, () => api(`${server.url}/me`))
    expect(errors).toEqual([])
    expect(statuses).toEqual(Array(30).fill(200))
    expect((await server.stats()).calls['/refresh']).toBe(1)
  })

  it('the default JSON refresh gets a 422: one POST per burst, one clear error, tokens kept', async () => {
    const { session, api } = client(server, { logoutPath: false })
    await session.login(USER)
    await server.expireAccessTokens()
    const { statuses, errors } = await burst(10, () => api(`${server.url}/me`))
    expect(statuses).toEqual([])
    expect(new Set(errors).size).toBe(1)
    expect(isTokenflightError(errors[0])).toBe(true)
    expect(errors[0]).toMatchObject({
      name: 'RefreshError',
      status: 422,
      terminal: false,
    })
    expect(session.getSnapshot().status).toBe('authenticated')
    expect((await server.stats()).calls['/refresh']).toBe(1)
  })
})
