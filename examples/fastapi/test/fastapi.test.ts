// End to end against examples/fastapi under uvicorn (Debian's /usr/bin/python3), with real
// axios + @tokenflight/axios and oauth2Client. Each test records what happened (refresh calls
// the server received, requests served, 401s the server answered); the table prints at the end.
import axios from 'axios'
import type { AxiosInstance } from 'axios'
import { attachSession } from '@tokenflight/axios'
import {
  OAuth2HttpError,
  RefreshError,
  createSession,
  isTokenflightError,
  oauth2Client,
} from '@tokenflight/core'
import type {
  OAuth2ClientOptions,
  Session,
  SessionOptions,
} from '@tokenflight/core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fastapiMissing, startFastapi } from './startFastapi'
import type { FastapiServer } from './startFastapi'

const USER = { username: 'demo', password: 'demo-password' }
const missing = fastapiMissing()
if (missing && process.env.TOKENFLIGHT_REQUIRE_FASTAPI === '1')
  throw new Error(`TOKENFLIGHT_REQUIRE_FASTAPI=1, but ${missing}`)
if (missing) console.warn(`examples/fastapi tests skipped: ${missing}`)
// Skipped, saying why, only where Debian's python3 lacks FastAPI; CI installs it and sets
// TOKENFLIGHT_REQUIRE_FASTAPI=1 (scripts/dev.sh), so there a missing FastAPI fails instead.
const suite = (name: string, body: () => void) =>
  missing
    ? describe.skip(`${name} (skipped: ${missing})`, body)
    : describe(name, body)

type Row = {
  scenario: string
  requests: number
  served: number
  refreshCalls: number
  unauthorized: number
}
const rows: Row[] = []

afterAll(() => {
  if (rows.length === 0) return
  const head = ['scenario', 'requests', 'served', '/refresh calls', '401s']
  const body = rows.map((r) => [
    r.scenario,
    String(r.requests),
    String(r.served),
    String(r.refreshCalls),
    String(r.unauthorized),
  ])
  const widths = head.map((h, i) =>
    Math.max(h.length, ...body.map((cells) => cells[i]!.length)),
  )
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
  console.log(
    ['examples/fastapi end to end', line(head), ...body.map(line)].join('\n'),
  )
})

/** One client as a user writes it: oauth2Client spread into createSession, axios attached. */
function client(
  server: FastapiServer,
  {
    oauth = {},
    session: sessionOptions = {},
    prefix = '',
  }: {
    oauth?: Partial<OAuth2ClientOptions>
    session?: Partial<SessionOptions>
    prefix?: string
  } = {},
) {
  const baseUrl = server.url + prefix
  const session = createSession({
    ...oauth2Client({ baseUrl, ...oauth }),
    // 401-driven unless a test says otherwise: the server's 900 s tokens are expired by hook.
    refreshLeewayMs: 0,
    retry: { attempts: 2, baseDelayMs: 20 },
    ...sessionOptions,
  })
  const api = axios.create({ baseURL: baseUrl })
  attachSession(api, session)
  const events = { expired: 0, refreshFailed: 0, logoutFailed: 0 }
  for (const name of Object.keys(events) as Array<keyof typeof events>)
    session.on(name, () => events[name]++)
  return { session, api, events }
}

/** Fires `n` requests at once; what each one gave. */
async function burst(api: AxiosInstance, n: number, path = '/todos') {
  const results = await Promise.allSettled(
    Array.from({ length: n }, () => api.get(path)),
  )
  return {
    served: results.filter((r) => r.status === 'fulfilled').length,
    errors: results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : [])),
  }
}

/** Server counters since the last reset, as a table row. */
async function record(
  server: FastapiServer,
  scenario: string,
  requests: number,
  served: number,
) {
  const stats = await server.stats()
  const row = {
    scenario,
    requests,
    served,
    refreshCalls: stats.calls['/refresh'] ?? 0,
    unauthorized: stats.unauthorized,
  }
  rows.push(row)
  return { ...row, stats }
}

/** A raw POST /refresh, as an attacker (or a second client) would send it. */
const replay = (server: FastapiServer, refreshToken: string) =>
  fetch(`${server.url}/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: refreshToken }),
  })

const tokensOf = (session: Session) => session.getSnapshot().tokens!

suite('reference contract', () => {
  let server: FastapiServer
  beforeAll(async () => {
    server = await startFastapi()
  })
  afterAll(() => server?.stop())
  beforeEach(() => server.reset())

  it('login: form to /token, expires_in honoured, /me served; a bad password keeps its detail', async () => {
    const { session, api } = client(server)
    const before = Date.now()
    await session.login(USER)
    const { expiresAt } = tokensOf(session)
    expect(expiresAt).toBeGreaterThanOrEqual(before + 900_000)
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 900_000)
    expect((await api.get('/me')).data).toEqual({ username: 'demo' })

    const refused = await client(server)
      .session.login({ ...USER, password: 'wrong' })
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(OAuth2HttpError)
    expect(refused).toMatchObject({
      status: 400,
      data: { error: 'invalid_grant' },
      message:
        '/token answered 400 (invalid_grant): Incorrect username or password',
    })
    const row = await record(server, 'login', 1, 1)
    expect(row).toMatchObject({ refreshCalls: 0, unauthorized: 0 })
  })

  it('a burst of 50 after expiry: 1 refresh, 50/50 served', async () => {
    const { session, api } = client(server)
    await session.login(USER)
    await server.expireAccessTokens()
    const { served, errors } = await burst(api, 50)
    expect(errors).toEqual([])
    const row = await record(server, 'burst of 50 after expiry', 50, served)
    expect(row.refreshCalls).toBe(1)
    expect(row.stats.rotations).toBe(1)
    expect(row.unauthorized).toBeGreaterThan(0)
    expect(row.unauthorized).toBeLessThanOrEqual(50)
    expect(row.stats.served).toBe(50)
  })

  it('late 401s: answers to requests sent before the refresh retry without refreshing again', async () => {
    const { session, api } = client(server)
    await session.login(USER)
    await server.hold('/todos')
    await server.expireAccessTokens()
    const late = burst(api, 20, '/todos')
    await server.held('/todos', 20)
    // Meanwhile another request finds out and refreshes.
    expect((await api.get('/me')).status).toBe(200)
    expect((await server.stats()).calls['/refresh']).toBe(1)
    await server.release('/todos')
    const { served, errors } = await late
    expect(errors).toEqual([])
    const row = await record(server, 'late 401s (20 held)', 21, served + 1)
    expect(row.refreshCalls).toBe(1)
    expect(row.unauthorized).toBe(21)
  })

  it('requests issued during a refresh wait for it: none reaches the server with the old token', async () => {
    const { session, api } = client(server)
    await session.login(USER)
    await server.hold('/refresh')
    await server.expireAccessTokens()
    const first = api.get('/me')
    await server.held('/refresh', 1)
    expect(session.getSnapshot().status).toBe('refreshing')
    const during = burst(api, 30, '/todos')
    await server.release('/refresh')
    await first
    const { served, errors } = await during
    expect(errors).toEqual([])
    const row = await record(server, 'during a refresh (30)', 31, served + 1)
    expect(row.refreshCalls).toBe(1)
    // Only the request that found the expiry: the 30 never went out with the old token.
    expect(row.unauthorized).toBe(1)
    expect(row.stats.calls['/todos']).toBe(30)
  })

  it('two rotations in a row: each refresh token is used once', async () => {
    const { session, api } = client(server)
    await session.login(USER)
    const seen = [tokensOf(session).refreshToken]
    for (let i = 0; i < 2; i++) {
      await server.expireAccessTokens()
      const { served, errors } = await burst(api, 10)
      expect(errors).toEqual([])
      expect(served).toBe(10)
      seen.push(tokensOf(session).refreshToken)
    }
    expect(new Set(seen).size).toBe(3)
    const row = await record(server, 'two rotations in a row', 20, 20)
    expect(row.refreshCalls).toBe(2)
    expect(row.stats).toMatchObject({ rotations: 2, reuseDetections: 0 })
  })

  it('replay: the family is revoked, the next refresh is terminal, one typed error for every waiting request, no loop', async () => {
    const { session, api, events } = client(server)
    await session.login(USER)
    const stolen = tokensOf(session).refreshToken!
    await server.expireAccessTokens()
    await api.get('/me') // rotates `stolen` out
    expect((await replay(server, stolen)).status).toBe(400)
    expect((await server.stats()).reuseDetections).toBe(1)

    await server.expireAccessTokens()
    const { served, errors } = await burst(api, 20)
    expect(served).toBe(0)
    expect(errors).toHaveLength(20)
    expect(new Set(errors).size).toBe(1)
    const [error] = errors
    expect(error).toBeInstanceOf(RefreshError)
    expect(error).toMatchObject({
      terminal: true,
      status: 400,
      code: 'invalid_grant',
    })
    expect((error as RefreshError).cause).toMatchObject({
      message: '/refresh answered 400 (invalid_grant): refresh token revoked',
    })
    expect(session.getSnapshot()).toMatchObject({
      status: 'expired',
      tokens: null,
    })
    expect(events).toMatchObject({ expired: 1, refreshFailed: 1 })
    // After the end: a request goes out without a token, gets its 401, and stops there.
    await expect(api.get('/me')).rejects.toMatchObject({
      response: { status: 401 },
    })
    const row = await record(server, 'replay → family revoked', 22, 1)
    // The rotation, the attacker's replay, the one terminal refresh: no loop.
    expect(row.refreshCalls).toBe(3)
  })

  it('logout with a fresh access token revokes the family on the server', async () => {
    const { session, events } = client(server)
    await session.login(USER)
    const { accessToken, refreshToken } = tokensOf(session)
    await session.logout()
    expect(session.getSnapshot().status).toBe('anonymous')
    expect(events.logoutFailed).toBe(0)
    expect((await replay(server, refreshToken!)).status).toBe(400)
    const me = await fetch(`${server.url}/me`, {
      headers: { authorization: `Bearer ${accessToken}` },
    })
    expect(me.status).toBe(401)
    const row = await record(server, 'logout, fresh access token', 0, 0)
    expect(row.stats).toMatchObject({ logouts: 1, revokedFamilies: 1 })
    expect(row.stats.calls['/logout']).toBe(1)
  })

  it('logout with an expired access token still revokes the refresh token (it is sent in the body)', async () => {
    const { session, events } = client(server)
    await session.login(USER)
    const { refreshToken } = tokensOf(session)
    await server.expireAccessTokens()
    await server.advanceClock(3600) // expired by exp too, not only by the hook
    await session.logout()
    expect(events.logoutFailed).toBe(0)
    const answer = await replay(server, refreshToken!)
    expect(answer.status).toBe(400)
    expect(await answer.json()).toMatchObject({
      error_description: 'refresh token revoked',
    })
    const row = await record(server, 'logout, expired access token', 0, 0)
    expect(row.stats.calls['/logout']).toBe(1)
    expect(row.refreshCalls).toBe(1) // the replay above, not the client
  })

  it('429 with Retry-After on /refresh: waited, then retried once', async () => {
    const { session, api } = client(server)
    await session.login(USER)
    await server.fail('/refresh', { status: 429, retryAfter: 1 })
    await server.expireAccessTokens()
    const started = Date.now()
    const { served, errors } = await burst(api, 10)
    expect(errors).toEqual([])
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
    const row = await record(
      server,
      '429 Retry-After: 1 on /refresh',
      10,
      served,
    )
    expect(row.refreshCalls).toBe(2)
  })
})

suite(
  'a /logout that checks the Bearer token when one is sent (--logout-auth bearer-if-sent)',
  () => {
    let server: FastapiServer
    beforeAll(async () => {
      server = await startFastapi(['--logout-auth', 'bearer-if-sent'])
    })
    afterAll(() => server?.stop())

    it('the expired access token is refused; oauth2Client sends the refresh token alone and the family dies', async () => {
      const { session, events } = client(server)
      await session.login(USER)
      const { refreshToken } = tokensOf(session)
      await server.expireAccessTokens()
      await session.logout()
      expect(events.logoutFailed).toBe(0)
      expect((await replay(server, refreshToken!)).status).toBe(400)
      const row = await record(
        server,
        'logout, expired, Bearer checked if sent',
        0,
        0,
      )
      expect(row.stats.calls['/logout']).toBe(2)
      expect(row.stats).toMatchObject({ logouts: 1, revokedFamilies: 1 })
    })
  },
)

suite(
  'a /logout behind Depends(get_current_user) (--logout-auth access)',
  () => {
    let server: FastapiServer
    beforeAll(async () => {
      server = await startFastapi(['--logout-auth', 'access'])
    })
    afterAll(() => server?.stop())

    it('with an expired access token the server refuses: logoutFailed fires, locally signed out', async () => {
      const { session, events } = client(server)
      await session.login(USER)
      await server.expireAccessTokens()
      await session.logout()
      expect(session.getSnapshot().status).toBe('anonymous')
      expect(events.logoutFailed).toBe(1)
      const row = await record(
        server,
        'logout, expired, /logout wants access',
        0,
        0,
      )
      expect(row.stats.calls['/logout']).toBe(2)
      // The limit of what a client can do: this server must accept the refresh token instead.
      expect(row.stats.revokedFamilies).toBe(0)
    })
  },
)

suite(
  'tutorial contract: refresh(refresh_token: str) in the query (--contract tutorial-query)',
  () => {
    let server: FastapiServer
    beforeAll(async () => {
      server = await startFastapi(['--contract', 'tutorial-query'])
    })
    afterAll(() => server?.stop())
    beforeEach(() => server.reset())

    it("refreshBody: 'query' and logoutPath: false: one refresh per burst, no logout call", async () => {
      const { session, api, events } = client(server, {
        oauth: { refreshBody: 'query', logoutPath: false },
      })
      await session.login(USER)
      await server.expireAccessTokens()
      const { served, errors } = await burst(api, 50)
      expect(errors).toEqual([])
      await session.logout()
      expect(events.logoutFailed).toBe(0)
      const row = await record(
        server,
        'tutorial-query, refreshBody: query',
        50,
        served,
      )
      expect(row.refreshCalls).toBe(1)
      expect(row.stats.calls['/logout']).toBeUndefined()

      const refused = await client(server)
        .session.login({ ...USER, password: 'wrong' })
        .catch((e: unknown) => e)
      expect(refused).toMatchObject({
        status: 401,
        message: '/token answered 401: Incorrect username or password',
      })
    })

    it('the default JSON refresh gets a 422: exactly one POST per burst, a clear error, tokens kept', async () => {
      const { session, api, events } = client(server, {
        oauth: { logoutPath: false },
      })
      await session.login(USER)
      await server.expireAccessTokens()
      const { served, errors } = await burst(api, 10, '/me')
      expect(served).toBe(0)
      expect(new Set(errors).size).toBe(1)
      const [error] = errors
      expect(isTokenflightError(error)).toBe(true)
      expect(error).toMatchObject({
        name: 'RefreshError',
        status: 422,
        terminal: false,
        retryable: false,
      })
      expect((error as RefreshError).cause).toMatchObject({
        message: '/refresh answered 422: invalid query.refresh_token',
      })
      expect(session.getSnapshot().status).toBe('authenticated')
      expect(events).toMatchObject({ expired: 0, refreshFailed: 1 })
      const first = await record(
        server,
        '422 from /refresh (burst 1)',
        10,
        served,
      )
      expect(first.refreshCalls).toBe(1)
      await burst(api, 10, '/me')
      const second = await record(server, '422 from /refresh (burst 2)', 10, 0)
      expect(second.refreshCalls).toBe(2)
    })
  },
)

suite(
  'tutorial contract: /api/v1, 403, JSON refresh returning only access_token, no expires_in (--contract tutorial-json)',
  () => {
    let server: FastapiServer
    const TTL = 60
    beforeAll(async () => {
      server = await startFastapi([
        '--contract',
        'tutorial-json',
        '--access-ttl',
        String(TTL),
      ])
    })
    afterAll(() => server?.stop())
    beforeEach(() => server.reset())

    // The client's clock runs 10 minutes behind the server's, and both jump together.
    const setup = (jwtExpiry: boolean) => {
      let skew = -600_000
      const c = client(server, {
        prefix: '/api/v1',
        oauth: { tokenPath: '/login', logoutPath: false },
        session: {
          refreshLeewayMs: 5_000,
          now: () => Date.now() + skew,
          jwtExpiry,
        },
      })
      const advance = async (seconds: number) => {
        skew += seconds * 1000
        await server.advanceClock(seconds)
      }
      return { ...c, advance }
    }

    it('a bad login is a 403 whose detail reaches the error', async () => {
      const { session } = setup(true)
      await expect(
        session.login({ ...USER, password: 'wrong' }),
      ).rejects.toMatchObject({
        status: 403,
        message: '/login answered 403: Incorrect email or password',
      })
    })

    it('expiry from the JWT: proactive refresh, zero 401s across 3 expiry cycles', async () => {
      const { session, api, advance } = setup(true)
      await session.login(USER)
      const { refreshToken, expiresAt } = tokensOf(session)
      expect(expiresAt! - (Date.now() - 600_000)).toBeGreaterThan(
        (TTL - 2) * 1000,
      )
      let served = 0
      for (let cycle = 0; cycle < 3; cycle++) {
        await advance(TTL + 1)
        const result = await burst(api, 20)
        expect(result.errors).toEqual([])
        served += result.served
      }
      // No rotation in this contract: the login's refresh token is kept (RFC 6749 §6).
      expect(tokensOf(session).refreshToken).toBe(refreshToken)
      const row = await record(
        server,
        'tutorial-json, JWT expiry, 3 cycles',
        60,
        served,
      )
      expect(row.unauthorized).toBe(0)
      expect(row.refreshCalls).toBe(3)
    })

    it('control: with jwtExpiry: false the same cycles cost 401s', async () => {
      const { session, api, advance } = setup(false)
      await session.login(USER)
      let served = 0
      for (let cycle = 0; cycle < 3; cycle++) {
        await advance(TTL + 1)
        served += (await burst(api, 20)).served
      }
      const row = await record(
        server,
        'control: jwtExpiry false, 3 cycles',
        60,
        served,
      )
      expect(served).toBe(60)
      expect(row.refreshCalls).toBe(3)
      expect(row.unauthorized).toBeGreaterThanOrEqual(3)
    })
  },
)
