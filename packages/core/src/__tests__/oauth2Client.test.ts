import { HttpResponse, http } from 'msw'
import type { JsonBodyType } from 'msw'
import { setupServer } from 'msw/node'
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it,
  vi,
} from 'vitest'
import {
  InvalidTokenResponseError,
  OAuth2HttpError,
  RefreshError,
  TokenflightError,
  createSession,
  isTokenflightError,
  oauth2Client,
} from '../index'
import { expectNoSecrets, gate } from './helpers'

const API = 'https://api.example.test'
// Distinctive, so that a leak anywhere is found by a substring search.
const AT = 'at-LEAKCHECK-3c9e7a'
const RT = 'rt-LEAKCHECK-b81f02'
const AT2 = 'at-LEAKCHECK-next-55d1'
const RT2 = 'rt-LEAKCHECK-next-e09a'
const PASSWORD = 'pw-LEAKCHECK-77f3'
const secrets = [AT, RT, AT2, RT2, PASSWORD]

type Seen = {
  path: string
  contentType: string | null
  authorization: string | null
  body: string
}
const seen: Seen[] = []

const tokenBody = {
  access_token: AT2,
  refresh_token: RT2,
  token_type: 'bearer',
  expires_in: 900,
}

const server = setupServer(
  http.post(`${API}/*`, async ({ request }) => {
    seen.push({
      path: new URL(request.url).pathname,
      contentType: request.headers.get('content-type'),
      authorization: request.headers.get('authorization'),
      body: await request.text(),
    })
    return HttpResponse.json(tokenBody, {
      headers: { 'cache-control': 'no-store' },
    })
  }),
)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  server.resetHandlers()
  seen.length = 0
})
afterAll(() => server.close())

const signal = () => new AbortController().signal
const tokens = { accessToken: AT, refreshToken: RT }

describe('oauth2Client request shapes', () => {
  it('login posts a form like OAuth2PasswordRequestForm', async () => {
    const client = oauth2Client({ baseUrl: API })
    await expect(
      client.login(
        { username: 'alice@example.com', password: PASSWORD },
        { signal: signal() },
      ),
    ).resolves.toEqual(tokenBody)
    expect(seen).toHaveLength(1)
    expect(seen[0]?.path).toBe('/token')
    expect(seen[0]?.contentType).toMatch(/^application\/x-www-form-urlencoded/)
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({
      grant_type: 'password',
      username: 'alice@example.com',
      password: PASSWORD,
    })
    expect(seen[0]?.authorization).toBeNull()
  })

  it('login rejects credentials that are not { username, password }', async () => {
    const client = oauth2Client({ baseUrl: API })
    await expect(
      client.login({ username: 'x' }, { signal: signal() }),
    ).rejects.toBeInstanceOf(TokenflightError)
    expect(seen).toHaveLength(0)
  })

  it('refresh posts JSON { refresh_token } by default', async () => {
    const client = oauth2Client({
      baseUrl: `${API}/`,
      refreshPath: '/auth/refresh',
    })
    await client.refresh({ tokens, signal: signal() })
    expect(seen[0]).toEqual({
      path: '/auth/refresh',
      contentType: 'application/json',
      authorization: null,
      body: JSON.stringify({ refresh_token: RT }),
    })
  })

  it("refresh posts a grant_type=refresh_token form with refreshBody: 'form'", async () => {
    const client = oauth2Client({ baseUrl: API, refreshBody: 'form' })
    await client.refresh({ tokens, signal: signal() })
    expect(seen[0]?.path).toBe('/refresh')
    expect(seen[0]?.contentType).toMatch(/^application\/x-www-form-urlencoded/)
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: RT,
    })
  })

  it('refresh without a refresh token (httpOnly cookie) posts an empty grant', async () => {
    const client = oauth2Client({ baseUrl: API })
    await client.refresh({ tokens: { accessToken: AT }, signal: signal() })
    expect(seen[0]?.body).toBe('{}')
  })

  it('logout posts the access token as Bearer and the refresh token as JSON', async () => {
    server.use(
      http.post(`${API}/logout`, async ({ request }) => {
        seen.push({
          path: '/logout',
          contentType: request.headers.get('content-type'),
          authorization: request.headers.get('authorization'),
          body: await request.text(),
        })
        return new HttpResponse(null, { status: 204 })
      }),
    )
    const client = oauth2Client({ baseUrl: API })
    await expect(
      client.logout({ tokens, signal: signal() }),
    ).resolves.toBeUndefined()
    expect(seen[0]).toEqual({
      path: '/logout',
      contentType: 'application/json',
      authorization: `Bearer ${AT}`,
      body: JSON.stringify({ refresh_token: RT }),
    })
  })

  it('passes the AbortSignal to fetch', async () => {
    const arrived = gate()
    server.use(
      http.post(`${API}/refresh`, async () => {
        arrived.open()
        await new Promise(() => {})
      }),
    )
    const controller = new AbortController()
    const client = oauth2Client({ baseUrl: API })
    const pending = client.refresh({ tokens, signal: controller.signal })
    await arrived.promise
    const reason = new Error('stop')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
  })

  it('uses a custom fetch, and otherwise the global fetch at call time', async () => {
    const custom = vi.fn(
      async () => new Response(JSON.stringify(tokenBody), { status: 200 }),
    )
    await oauth2Client({ baseUrl: API, fetch: custom }).refresh({
      tokens,
      signal: signal(),
    })
    expect(custom).toHaveBeenCalledOnce()
    expect(seen).toHaveLength(0)

    const lazy = oauth2Client({ baseUrl: API })
    const original = globalThis.fetch
    const replaced = vi.fn(original)
    globalThis.fetch = replaced
    try {
      await lazy.refresh({ tokens, signal: signal() })
    } finally {
      globalThis.fetch = original
    }
    expect(replaced).toHaveBeenCalledOnce()
  })
})

describe('oauth2Client errors', () => {
  it('maps a non-2xx answer to OAuth2HttpError with only status, the RFC 6749 fields and detail, tokens redacted', async () => {
    server.use(
      http.post(`${API}/refresh`, () =>
        HttpResponse.json(
          {
            error: 'invalid_grant',
            error_description: 'refresh token revoked',
            // A careless server echoing the token must not leak through us.
            refresh_token: RT,
            detail: `bad token ${RT}`,
          },
          { status: 401 },
        ),
      ),
    )
    const error = await oauth2Client({ baseUrl: API })
      .refresh({ tokens, signal: signal() })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OAuth2HttpError)
    expect(isTokenflightError(error)).toBe(true)
    expect(error).toMatchObject({
      status: 401,
      data: {
        error: 'invalid_grant',
        error_description: 'refresh token revoked',
        detail: 'bad token [redacted]',
      },
    })
    expect(Object.keys((error as OAuth2HttpError).data)).toEqual([
      'error',
      'error_description',
      'detail',
    ])
    expect((error as Error).message).toBe(
      '/refresh answered 401 (invalid_grant): refresh token revoked',
    )
    expectNoSecrets(error, secrets, true)
  })

  it('maps a non-JSON error body to an OAuth2HttpError without fields', async () => {
    server.use(
      http.post(`${API}/token`, () =>
        HttpResponse.text(`<h1>502 Bad Gateway</h1>`, { status: 502 }),
      ),
    )
    const error = await oauth2Client({ baseUrl: API })
      .login({ username: 'a', password: PASSWORD }, { signal: signal() })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OAuth2HttpError)
    expect(error).toMatchObject({ status: 502, data: {} })
    expectNoSecrets(error, secrets, true)
  })

  it('maps a network failure to a TokenflightError that keeps the cause', async () => {
    server.use(http.post(`${API}/refresh`, () => HttpResponse.error()))
    const error = await oauth2Client({ baseUrl: API })
      .refresh({ tokens, signal: signal() })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenflightError)
    expect(error).not.toBeInstanceOf(OAuth2HttpError)
    expect((error as Error).cause).toBeInstanceOf(TypeError)
    expect((error as Error).message).toBe('/refresh could not be reached')
    expectNoSecrets(error, secrets, true)
  })

  it.each([
    ['a non-JSON body', () => HttpResponse.text('OK')],
    ['an empty body', () => new HttpResponse(null, { status: 200 })],
  ])('maps a 2xx with %s to InvalidTokenResponseError', async (_, answer) => {
    server.use(http.post(`${API}/refresh`, answer))
    await expect(
      oauth2Client({ baseUrl: API }).refresh({ tokens, signal: signal() }),
    ).rejects.toBeInstanceOf(InvalidTokenResponseError)
  })
})

describe('oauth2Client with createSession', () => {
  const session = () =>
    createSession({
      ...oauth2Client({ baseUrl: API }),
      retry: { attempts: 2, baseDelayMs: 1 },
    })

  it('logs in, refreshes and logs out', async () => {
    const s = session()
    await s.login({ username: 'alice', password: PASSWORD })
    expect(await s.getAccessToken()).toBe(AT2)
    await s.refresh()
    expect(seen.map((r) => r.path)).toEqual(['/token', '/refresh'])
    expect(seen[1]?.body).toBe(JSON.stringify({ refresh_token: RT2 }))
    await s.logout()
    expect(seen[2]?.path).toBe('/logout')
    expect(seen[2]?.authorization).toBe(`Bearer ${AT2}`)
  })

  it('a 401 invalid_grant from /refresh is terminal', async () => {
    server.use(
      http.post(`${API}/refresh`, () =>
        HttpResponse.json({ error: 'invalid_grant' }, { status: 401 }),
      ),
    )
    const s = session()
    await s.setTokens(tokens)
    const error = await s.refresh().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RefreshError)
    expect(error).toMatchObject({
      terminal: true,
      status: 401,
      code: 'invalid_grant',
    })
    expect(s.getSnapshot().status).toBe('expired')
    expectNoSecrets(error, secrets, true)
  })

  it('a 503 once is retried and then succeeds', async () => {
    let calls = 0
    server.use(
      http.post(`${API}/refresh`, () =>
        ++calls === 1
          ? HttpResponse.json({ error: 'unavailable' }, { status: 503 })
          : HttpResponse.json(tokenBody),
      ),
    )
    const s = session()
    await s.setTokens(tokens)
    await expect(s.refresh()).resolves.toMatchObject({ accessToken: AT2 })
    expect(calls).toBe(2)
  })

  it('a network failure is transient: retried, then refreshFailed, tokens kept', async () => {
    let calls = 0
    server.use(
      http.post(`${API}/refresh`, () => {
        calls++
        return HttpResponse.error()
      }),
    )
    const s = session()
    await s.setTokens(tokens)
    const error = await s.refresh().catch((e: unknown) => e)
    expect(error).toMatchObject({ terminal: false, status: undefined })
    expect(calls).toBe(3)
    expect(s.getSnapshot().tokens).toEqual(tokens)
    expectNoSecrets(error, secrets, true)
  })

  it('a non-JSON 2xx from /refresh is not retried and keeps the tokens', async () => {
    let calls = 0
    server.use(
      http.post(`${API}/refresh`, () => {
        calls++
        return HttpResponse.text('<html>')
      }),
    )
    const s = session()
    await s.setTokens(tokens)
    const error = await s.refresh().catch((e: unknown) => e)
    expect((error as RefreshError).cause).toBeInstanceOf(
      InvalidTokenResponseError,
    )
    expect(calls).toBe(1)
    expect(s.getSnapshot().tokens).toEqual(tokens)
  })

  it('a failed server logout still logs out locally', async () => {
    server.use(
      http.post(`${API}/logout`, () =>
        HttpResponse.json({ error: 'server_error' }, { status: 500 }),
      ),
    )
    const s = session()
    await s.setTokens(tokens)
    const failed = vi.fn()
    s.on('logoutFailed', failed)
    await s.logout()
    expect(s.getSnapshot().status).toBe('anonymous')
    expect(failed).toHaveBeenCalledOnce()
    expectNoSecrets(failed.mock.calls[0]?.[0], secrets, true)
  })
})

/** The OAuth2HttpError a call rejects with. */
const failure = (pending: Promise<unknown>) =>
  pending.then(
    () => expect.fail('resolved'),
    (e: unknown) => e as OAuth2HttpError,
  )

describe('size limits', () => {
  it('stops reading a (nearly) endless answer past 128 KiB with an InvalidTokenResponseError', async () => {
    let sent = 0
    const chunk = new TextEncoder().encode(' '.repeat(16_384))
    server.use(
      http.post(
        `${API}/refresh`,
        () =>
          new HttpResponse(
            new ReadableStream({
              // Endless as far as the client can tell; ends at 4 MB so that a client
              // without a limit fails this test instead of hanging it.
              pull(controller) {
                if (sent >= 4_000_000) return controller.close()
                sent += chunk.byteLength
                controller.enqueue(chunk)
              },
            }),
            { headers: { 'content-type': 'application/json' } },
          ),
      ),
    )
    const error = await oauth2Client({ baseUrl: API })
      .refresh({ tokens, signal: signal() })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidTokenResponseError)
    expect((error as Error).message).toBe(
      '/refresh answered more than 131072 bytes',
    )
    expect(sent).toBeLessThan(1_000_000)
  })

  it('refuses a token longer than 16,384 characters, stores nothing', async () => {
    const huge = 'a'.repeat(16_385)
    server.use(
      http.post(`${API}/refresh`, () =>
        HttpResponse.json({ access_token: huge, expires_in: 60 }),
      ),
    )
    const writes: unknown[] = []
    const session = createSession({
      ...oauth2Client({ baseUrl: API }),
      storage: { get: () => tokens, set: (t) => void writes.push(t) },
    })
    const error = await session.refresh().catch((e: unknown) => e)
    expect(error).toMatchObject({
      name: 'RefreshError',
      cause: {
        name: 'InvalidTokenResponseError',
        message:
          'Invalid token response: bad access_token (over 16384 characters)',
      },
    })
    expect(writes).toEqual([])
    expect(session.getSnapshot().tokens).toEqual(tokens)
  })
})

describe("oauth2Client and FastAPI's error bodies", () => {
  const answer = (path: string, status: number, body: JsonBodyType) =>
    server.use(
      http.post(`${API}${path}`, () => HttpResponse.json(body, { status })),
    )
  const loginError = (client = oauth2Client({ baseUrl: API })) =>
    failure(
      client.login(
        { username: 'alice', password: PASSWORD },
        { signal: signal() },
      ),
    )

  it("keeps FastAPI's string detail in data and in the message", async () => {
    answer('/token', 403, { detail: 'Incorrect email or password' })
    const error = await loginError()
    expect(error).toBeInstanceOf(OAuth2HttpError)
    expect(error).toMatchObject({
      status: 403,
      data: { detail: 'Incorrect email or password' },
      message: '/token answered 403: Incorrect email or password',
    })
  })

  it('redacts the password, the tokens sent and any JWT from what the server says', async () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'
    answer('/token', 401, {
      detail: `no user alice with password ${PASSWORD} (${jwt})`,
    })
    const error = await loginError()
    expect(error.data.detail).toBe(
      'no user alice with password [redacted] ([redacted])',
    )
    expectNoSecrets(error, [...secrets, jwt], true)

    answer('/refresh', 400, {
      error: 'invalid_grant',
      error_description: `${RT} is revoked`,
      detail: `${RT}/${AT}`,
    })
    const refreshError = await failure(
      oauth2Client({ baseUrl: API }).refresh({ tokens, signal: signal() }),
    )
    expect(refreshError.data).toEqual({
      error: 'invalid_grant',
      error_description: '[redacted] is revoked',
      detail: '[redacted]/[redacted]',
    })
    expectNoSecrets(refreshError, secrets, true)
  })

  it('repeats only standard OAuth2 codes: a token echoed as `error` is in no message and no code', async () => {
    // Not one the request carried (so not redacted): another session's, say.
    const other = 'opaque-token-of-someone-ECHO'
    answer('/refresh', 400, { error: other })
    const httpError = await failure(
      oauth2Client({ baseUrl: API }).refresh({ tokens, signal: signal() }),
    )
    expect(httpError.message).toBe('/refresh answered 400')
    const session = createSession({
      ...oauth2Client({ baseUrl: API }),
      storage: { get: () => tokens, set: () => {} },
    })
    const refreshError = await session.refresh().catch((e: unknown) => e)
    expect(refreshError).toMatchObject({
      name: 'RefreshError',
      terminal: true,
      code: undefined,
      message: 'Token refresh failed with 400',
    })
    expectNoSecrets(refreshError, [other])
    answer('/refresh', 400, { error: 'invalid_grant' })
    await session.setTokens(tokens)
    await expect(session.refresh()).rejects.toMatchObject({
      code: 'invalid_grant',
      message: 'Token refresh failed with 400 (invalid_grant)',
    })
  })

  it("drops a detail that is not a string, and names a 422's fields (never their input)", async () => {
    answer('/refresh', 422, {
      detail: [
        {
          loc: ['query', 'refresh_token'],
          msg: 'field required',
          type: 'value_error.missing',
        },
        // pydantic 2 echoes the input: it must go nowhere.
        { loc: ['body', 'refresh_token'], msg: 'bad', input: RT },
      ],
    })
    const error = await failure(
      oauth2Client({ baseUrl: API }).refresh({ tokens, signal: signal() }),
    )
    expect(error.data).toEqual({})
    expect(error.message).toBe(
      '/refresh answered 422: invalid query.refresh_token, body.refresh_token',
    )
    expectNoSecrets(error, secrets, true)
  })

  it('keeps Retry-After, and only that header', async () => {
    server.use(
      http.post(
        `${API}/refresh`,
        () =>
          new HttpResponse(null, {
            status: 429,
            headers: { 'retry-after': '2', 'set-cookie': `rt=${RT}` },
          }),
      ),
    )
    const error = await failure(
      oauth2Client({ baseUrl: API }).refresh({ tokens, signal: signal() }),
    )
    expect(error.headers).toEqual({ 'retry-after': '2' })
    expectNoSecrets(error, secrets, true)
  })
})

describe("oauth2Client refreshBody: 'query'", () => {
  it('posts the refresh token as a query parameter with no body', async () => {
    const client = oauth2Client({ baseUrl: API, refreshBody: 'query' })
    let url = ''
    server.use(
      http.post(`${API}/refresh`, async ({ request }) => {
        url = request.url
        seen.push({
          path: new URL(request.url).pathname,
          contentType: request.headers.get('content-type'),
          authorization: request.headers.get('authorization'),
          body: await request.text(),
        })
        return HttpResponse.json(tokenBody)
      }),
    )
    await client.refresh({ tokens, signal: signal() })
    expect(new URL(url).searchParams.get('refresh_token')).toBe(RT)
    expect(seen[0]).toEqual({
      path: '/refresh',
      contentType: null,
      authorization: null,
      body: '',
    })
  })

  it('appends to a refreshPath that has a query already', async () => {
    let url = ''
    server.use(
      http.post(`${API}/auth/refresh`, ({ request }) => {
        url = request.url
        return HttpResponse.json(tokenBody)
      }),
    )
    await oauth2Client({
      baseUrl: API,
      refreshPath: '/auth/refresh?v=2',
      refreshBody: 'query',
    }).refresh({ tokens, signal: signal() })
    expect(Object.fromEntries(new URL(url).searchParams)).toEqual({
      v: '2',
      refresh_token: RT,
    })
  })

  it('sends no query without a refresh token (httpOnly cookie)', async () => {
    let url = ''
    server.use(
      http.post(`${API}/refresh`, ({ request }) => {
        url = request.url
        return HttpResponse.json(tokenBody)
      }),
    )
    await oauth2Client({ baseUrl: API, refreshBody: 'query' }).refresh({
      tokens: { accessToken: AT },
      signal: signal(),
    })
    expect(url).toBe(`${API}/refresh`)
  })

  it.each([
    ['an error answer', () => HttpResponse.json({}, { status: 500 })],
    ['a network failure', () => HttpResponse.error()],
    ['a non-JSON 2xx', () => HttpResponse.text('OK')],
  ])('keeps the URL (and its token) out of %s', async (_, reply) => {
    server.use(http.post(`${API}/refresh`, reply))
    const error = await oauth2Client({ baseUrl: API, refreshBody: 'query' })
      .refresh({ tokens, signal: signal() })
      .catch((e: unknown) => e)
    expect(isTokenflightError(error)).toBe(true)
    expect((error as Error).message).toMatch(/^\/refresh /)
    expectNoSecrets(error, secrets, true)
  })
})

describe('oauth2Client logoutPath: false', () => {
  it('sends nothing and fires no logoutFailed', async () => {
    const s = createSession({
      ...oauth2Client({ baseUrl: API, logoutPath: false }),
    })
    await s.setTokens(tokens)
    const failed = vi.fn()
    s.on('logoutFailed', failed)
    await s.logout()
    expect(seen).toHaveLength(0)
    expect(failed).not.toHaveBeenCalled()
    expect(s.getSnapshot().status).toBe('anonymous')
  })
})

describe('oauth2Client logout with an access token the server refuses', () => {
  const logoutAnswers = (answer: (authorization: string | null) => Response) =>
    server.use(
      http.post(`${API}/logout`, async ({ request }) => {
        const authorization = request.headers.get('authorization')
        seen.push({
          path: '/logout',
          contentType: request.headers.get('content-type'),
          authorization,
          body: await request.text(),
        })
        return answer(authorization)
      }),
    )

  it('on a 401, sends the refresh token once more, without the access token', async () => {
    logoutAnswers((authorization) =>
      authorization
        ? HttpResponse.json({ detail: 'expired' }, { status: 401 })
        : new HttpResponse(null, { status: 204 }),
    )
    await oauth2Client({ baseUrl: API }).logout({ tokens, signal: signal() })
    const body = JSON.stringify({ refresh_token: RT })
    expect(seen.map((r) => [r.path, r.authorization, r.body])).toEqual([
      ['/logout', `Bearer ${AT}`, body],
      ['/logout', null, body],
    ])
  })

  it('only once, only on a 401, and only with a refresh token to send', async () => {
    const client = oauth2Client({ baseUrl: API })
    logoutAnswers(() => HttpResponse.json({ detail: 'no' }, { status: 401 }))
    await expect(
      client.logout({ tokens, signal: signal() }),
    ).rejects.toMatchObject({ status: 401 })
    expect(seen).toHaveLength(2)
    seen.length = 0
    await expect(
      client.logout({ tokens: { accessToken: AT }, signal: signal() }),
    ).rejects.toMatchObject({ status: 401 })
    expect(seen).toHaveLength(1)
    seen.length = 0
    logoutAnswers(() => HttpResponse.json({ detail: 'down' }, { status: 503 }))
    await expect(
      client.logout({ tokens, signal: signal() }),
    ).rejects.toMatchObject({ status: 503 })
    expect(seen).toHaveLength(1)
  })
})

describe('oauth2Client baseUrl', () => {
  it.each(['/api', '', 'api.example.test', '//api.example.test'])(
    'a relative URL (%j) fails at creation outside a browser, saying why',
    (baseUrl) => {
      expect(() => oauth2Client({ baseUrl })).toThrow(TokenflightError)
      expect(() => oauth2Client({ baseUrl })).toThrow(
        /absolute http\(s\) URL \(a relative one works only in a browser/,
      )
    },
  )

  it('a non-http URL fails at creation', () => {
    for (const baseUrl of ['ftp://api.example.test', 'javascript:alert(1)'])
      expect(() => oauth2Client({ baseUrl })).toThrow(TokenflightError)
  })

  it('a relative URL is fine in a browser, resolved against the page by fetch', async () => {
    vi.stubGlobal('location', { href: `${API}/app/` })
    try {
      const fetched: string[] = []
      const client = oauth2Client({
        baseUrl: '/api',
        fetch: async (input) => {
          fetched.push(String(input))
          return Response.json(tokenBody)
        },
      })
      await client.refresh({ tokens, signal: signal() })
      expect(fetched).toEqual(['/api/refresh'])
      expect(() => oauth2Client({ baseUrl: 'ftp://x' })).toThrow(
        TokenflightError,
      )
    } finally {
      vi.unstubAllGlobals()
    }
  })
})
