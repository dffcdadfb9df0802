// Redirects over real sockets in Node (undici): the mock server's node:http server as the API,
// and a second node:http server on another port (another origin) that records what reaches it.
// Node's fetch drops Authorization on a redirect to another origin but keeps any other header;
// here the token must reach no origin outside allowedOrigins, whatever header carries it.
import { createServer } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import ky from 'ky'
import createClient from 'openapi-fetch'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createSession, oauth2Client } from '@tokenflight/core'
import type { Session } from '@tokenflight/core'
import { DEFAULT_USER, createAuthServer } from '@tokenflight/mock-server'
import type { AuthServer, Todo } from '@tokenflight/mock-server'
import { startAuthServer } from '@tokenflight/mock-server/node'
import { createFetch } from '../createFetch'
import { kyAuth } from '../kyAuth'
import { openapiFetchAuth } from '../openapiFetchAuth'
import type { AuthOptions } from '../shared'
import { streamOf } from './harness'

type Seen = {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/** A node:http server on 127.0.0.1 that records every request; `/401` answers 401. */
async function startRecorder() {
  const seen: Seen[] = []
  const http = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const path = req.url ?? '/'
      seen.push({
        method: req.method ?? '',
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      })
      res.writeHead(path === '/401' ? 401 : 200, {
        'Content-Type': 'application/json',
      })
      res.end(JSON.stringify({ path }))
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      }),
  }
}

const auth = createAuthServer()
// What the API saw: method, path and the two token headers of each request.
const apiSeen: Array<{ method: string; path: string; token: string | null }> =
  []
// The mock server's routes, plus `/redirect/<status>?to=<url>` and `/loop` (302 to itself).
const redirecting = {
  handle: async (request: Request) => {
    const url = new URL(request.url)
    apiSeen.push({
      method: request.method,
      path: url.pathname,
      token:
        request.headers.get('authorization') ??
        request.headers.get('x-access-token'),
    })
    const status = /^\/redirect\/(\d+)$/.exec(url.pathname)?.[1]
    if (status)
      return new Response(null, {
        status: Number(status),
        headers: { Location: url.searchParams.get('to')! },
      })
    if (url.pathname === '/loop')
      return new Response(null, { status: 302, headers: { Location: '/loop' } })
    return auth.handle(request)
  },
} as AuthServer

let api: Awaited<ReturnType<typeof startAuthServer>>
let other: Awaited<ReturnType<typeof startRecorder>>

beforeAll(async () => {
  api = await startAuthServer(redirecting, { port: 0, host: '127.0.0.1' })
  other = await startRecorder()
})
afterEach(() => {
  auth.reset()
  apiSeen.length = 0
  other.seen.length = 0
})
afterAll(async () => {
  await api?.close()
  await other?.close()
})

async function session(): Promise<Session> {
  const s = createSession({
    ...oauth2Client({ baseUrl: api.url }),
    retry: { attempts: 0, baseDelayMs: 1 },
  })
  await s.login(DEFAULT_USER)
  apiSeen.length = 0
  return s
}

const redirect = (status: number, to: string) =>
  `${api.url}/redirect/${status}?to=${encodeURIComponent(to)}`

/** Every token header that reached the other origin (none expected but where allowed). */
const tokensAtOther = () =>
  other.seen.flatMap((s) =>
    [s.headers.authorization, s.headers['x-access-token']].filter(Boolean),
  )

const HEADERS = ['Authorization', 'X-Access-Token']

// The redirecting routes, as openapi-typescript would describe them.
type Redirected = {
  parameters: { query: { to: string } }
  responses: { 200: { content: { 'application/json': { path: string } } } }
}
type paths = {
  '/redirect/302': { get: Redirected }
  '/redirect/307': {
    post: Redirected & {
      requestBody: { content: { 'application/json': { n: number } } }
    }
  }
}

describe('createFetch: redirects in Node', () => {
  for (const headerName of HEADERS)
    for (const status of [301, 302, 303, 307, 308])
      it(`${status} to another origin with ${headerName}: the token never arrives there`, async () => {
        const s = await session()
        const fetchAuth = createFetch(s, {
          allowedOrigins: [api.url],
          headerName,
        })

        const response = await fetchAuth(
          redirect(status, `${other.url}/landing`),
        )

        expect(await response.json()).toEqual({ path: '/landing' })
        expect(response.redirected).toBe(true)
        expect(response.url).toBe(`${other.url}/landing`)
        // The API got it; the other origin got the request, without it.
        expect(apiSeen[0]?.token).toMatch(/^Bearer /)
        expect(other.seen.map((r) => r.path)).toEqual(['/landing'])
        expect(tokensAtOther()).toEqual([])
      })

  for (const headerName of HEADERS)
    it(`a redirect to another allowed origin keeps the token (${headerName})`, async () => {
      const s = await session()
      const fetchAuth = createFetch(s, {
        allowedOrigins: [api.url, other.url],
        headerName,
      })

      await fetchAuth(redirect(302, `${other.url}/landing`))

      const token = `Bearer ${s.getSnapshot().tokens!.accessToken}`
      expect(tokensAtOther()).toEqual([token])
    })

  it('a redirect within the API keeps the token: the request is served', async () => {
    const s = await session()
    // The mock server reads Authorization.
    const fetchAuth = createFetch(s, { allowedOrigins: [api.url] })

    const response = await fetchAuth(redirect(307, `${api.url}/me`))

    expect(response.status).toBe(200)
    expect(response.redirected).toBe(true)
    expect(await response.json()).toMatchObject({
      username: DEFAULT_USER.username,
    })
    expect(apiSeen.map((r) => [r.path, !!r.token])).toEqual([
      ['/redirect/307', true],
      ['/me', true],
    ])
  })

  for (const status of [307, 308])
    it(`POST on ${status}: method and body sent again, to the API and to the other origin`, async () => {
      const s = await session()
      const fetchAuth = createFetch(s, {
        allowedOrigins: [api.url],
        headerName: 'X-Access-Token',
      })
      const plain = createFetch(s, { allowedOrigins: [api.url] })
      const post = {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: `moved ${status}` }),
      }

      const created = (await (
        await plain(redirect(status, `${api.url}/todos`), post)
      ).json()) as Todo
      await fetchAuth(redirect(status, `${other.url}/inbox`), post)

      expect(created.title).toBe(`moved ${status}`)
      expect(other.seen).toMatchObject([
        { method: 'POST', path: '/inbox', body: post.body },
      ])
      expect(other.seen[0]!.headers['content-type']).toBe('application/json')
      expect(tokensAtOther()).toEqual([])
    })

  it('POST on 307 from a Request input: its body is sent again', async () => {
    const s = await session()
    const fetchAuth = createFetch(s, {
      allowedOrigins: [api.url],
      headerName: 'X-Access-Token',
    })

    await fetchAuth(
      new Request(redirect(307, `${other.url}/inbox`), {
        method: 'POST',
        body: 'from a Request',
      }),
    )

    expect(other.seen).toMatchObject([
      { method: 'POST', path: '/inbox', body: 'from a Request' },
    ])
    expect(tokensAtOther()).toEqual([])
  })

  for (const status of [301, 302, 303])
    it(`POST on ${status}: a GET without the body (and without Content-Type)`, async () => {
      const s = await session()
      const fetchAuth = createFetch(s, {
        allowedOrigins: [api.url],
        headerName: 'X-Access-Token',
      })

      await fetchAuth(redirect(status, `${other.url}/inbox`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"title":"x"}',
      })

      expect(other.seen).toMatchObject([
        { method: 'GET', path: '/inbox', body: '' },
      ])
      expect(other.seen[0]!.headers['content-type']).toBeUndefined()
      expect(tokensAtOther()).toEqual([])
    })

  it('a stream body on 307: a TypeError, as fetch gives, and nothing sent on', async () => {
    const s = await session()
    const fetchAuth = createFetch(s, {
      allowedOrigins: [api.url],
      headerName: 'X-Access-Token',
    })

    const sent = fetchAuth(redirect(307, `${other.url}/inbox`), {
      method: 'POST',
      body: streamOf('once'),
      duplex: 'half',
    } as RequestInit)

    await expect(sent).rejects.toBeInstanceOf(TypeError)
    expect(other.seen).toEqual([])
  })

  it('a redirect loop ends in a TypeError after 20 redirects, as fetch does', async () => {
    const s = await session()
    const fetchAuth = createFetch(s, {
      allowedOrigins: [api.url],
      headerName: 'X-Access-Token',
    })

    const error = (await fetchAuth(`${api.url}/loop`).catch(
      (e: unknown) => e,
    )) as TypeError

    expect(error).toBeInstanceOf(TypeError)
    expect(error.cause).toMatchObject({ message: 'redirect count exceeded' })
    // The first request and 20 redirects: the count Node's fetch makes on its own.
    expect(apiSeen.filter((r) => r.path === '/loop')).toHaveLength(21)
    expect(apiSeen.every((r) => r.token)).toBe(true)
  })

  it("the caller's redirect: 'manual' gets the redirect itself, 'error' a TypeError; nothing sent on", async () => {
    const s = await session()
    const fetchAuth = createFetch(s, {
      allowedOrigins: [api.url],
      headerName: 'X-Access-Token',
    })

    const manual = await fetchAuth(redirect(302, `${other.url}/landing`), {
      redirect: 'manual',
    })
    const error = fetchAuth(redirect(302, `${other.url}/landing`), {
      redirect: 'error',
    })

    expect(manual.status).toBe(302)
    expect(manual.headers.get('location')).toBe(`${other.url}/landing`)
    await expect(error).rejects.toBeInstanceOf(TypeError)
    expect(other.seen).toEqual([])
  })

  it('a 401 from an origin the token did not go to is an answer: no refresh, no retry', async () => {
    const s = await session()
    const fetchAuth = createFetch(s, {
      allowedOrigins: [api.url],
      headerName: 'X-Access-Token',
    })

    const response = await fetchAuth(redirect(302, `${other.url}/401`))

    expect(response.status).toBe(401)
    expect(auth.stats.refreshes).toBe(0)
    expect(other.seen).toHaveLength(1)
  })

  it('a 401 after a redirect within the API refreshes once and the retry follows it again', async () => {
    const s = await session()
    const plain = createFetch(s, { allowedOrigins: [api.url] })
    auth.expireAccessTokens()

    const response = await plain(redirect(307, `${api.url}/me`))

    expect(response.status).toBe(200)
    expect(auth.stats.refreshes).toBe(1)
    expect(apiSeen.map((r) => r.path)).toEqual([
      '/redirect/307',
      '/me',
      '/refresh',
      '/redirect/307',
      '/me',
    ])
  })
})

describe('kyAuth and openapiFetchAuth: redirects in Node', () => {
  const options = (headerName: string): AuthOptions => ({
    allowedOrigins: [api.url],
    headerName,
  })

  for (const headerName of HEADERS)
    it(`ky, 302 and 307 (POST) to another origin with ${headerName}: no token arrives there`, async () => {
      const s = await session()
      const client = ky.create({ hooks: kyAuth(s, options(headerName)) })

      const got = await client.get(redirect(302, `${other.url}/landing`)).json()
      await client.post(redirect(307, `${other.url}/inbox`), {
        json: { title: 'ky' },
      })

      expect(got).toEqual({ path: '/landing' })
      expect(other.seen).toMatchObject([
        { method: 'GET', path: '/landing' },
        { method: 'POST', path: '/inbox', body: '{"title":"ky"}' },
      ])
      expect(apiSeen[0]?.token).toMatch(/^Bearer /)
      expect(tokensAtOther()).toEqual([])
    })

  it('ky with a custom header: a redirect to another allowed origin keeps it', async () => {
    const s = await session()
    const client = ky.create({
      hooks: kyAuth(s, {
        allowedOrigins: [api.url, other.url],
        headerName: 'X-Access-Token',
      }),
    })

    await client.get(redirect(302, `${other.url}/landing`))

    expect(tokensAtOther()).toHaveLength(1)
  })

  for (const headerName of HEADERS)
    it(`openapi-fetch, 302 and 307 (POST) to another origin with ${headerName}: no token arrives there`, async () => {
      const s = await session()
      const client = createClient<paths>({ baseUrl: api.url })
      client.use(openapiFetchAuth(s, options(headerName)))
      const to = (path: string) => ({
        params: { query: { to: `${other.url}${path}` } },
      })

      const { data } = await client.GET('/redirect/302', to('/landing'))
      await client.POST('/redirect/307', { ...to('/inbox'), body: { n: 1 } })

      expect(data).toEqual({ path: '/landing' })
      expect(other.seen).toMatchObject([
        { method: 'GET', path: '/landing' },
        { method: 'POST', path: '/inbox', body: '{"n":1}' },
      ])
      expect(tokensAtOther()).toEqual([])
    })

  it('openapi-fetch: a redirect to another allowed origin keeps the token (Authorization)', async () => {
    const s = await session()
    const client = createClient<paths>({ baseUrl: api.url })
    client.use(openapiFetchAuth(s, { allowedOrigins: [api.url, other.url] }))

    await client.GET('/redirect/302', {
      params: { query: { to: `${other.url}/landing` } },
    })

    expect(tokensAtOther()).toHaveLength(1)
  })
})
