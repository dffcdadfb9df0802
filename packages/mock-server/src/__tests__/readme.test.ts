// The README's snippets, run as written (imports from the package's own entry points).
import { readFileSync } from 'node:fs'
import { authHandlers, createAuthServer } from '@tokenflight/mock-server'
import { startAuthServer } from '@tokenflight/mock-server/node'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_PREFIX, describeRoute, ROUTES } from '../routes.ts'

describe('README: in vitest', () => {
  const auth = createAuthServer({ accessTokenTtlSec: 60 })
  const msw = setupServer(...authHandlers(auth, { baseUrl: 'http://api.test' }))

  beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
  afterEach(() => auth.reset())
  afterAll(() => msw.close())

  const login = async () => {
    const response = await fetch('http://api.test/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        username: 'demo',
        password: 'demo-password',
      }),
    })
    return (await response.json()) as {
      access_token: string
      refresh_token: string
    }
  }

  it('expireAccessTokens, then one refresh', async () => {
    const tokens = await login()
    auth.expireAccessTokens()
    const me = await fetch('http://api.test/me', {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    })
    expect(me.status).toBe(401)
    await fetch('http://api.test/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: tokens.refresh_token }),
    })
    expect(auth.stats.refreshes).toBe(1)
  })

  it('a gate holds the refresh until the test opens it', async () => {
    const tokens = await login()
    let open!: () => void
    auth.inject({
      endpoint: 'refresh',
      kind: 'gate',
      until: new Promise<void>((r) => (open = r)),
    })
    const pending = fetch('http://api.test/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: tokens.refresh_token }),
    })
    await expect.poll(() => auth.stats.faults).toBe(1)
    expect(auth.stats.refreshes).toBe(0)
    open()
    expect((await pending).status).toBe(200)
  })

  it('moving time with an injected clock', async () => {
    let now = Date.now()
    const timed = createAuthServer({
      now: () => now,
      accessTokenTtlSec: 1,
      refreshTokenTtlSec: 60,
    })
    const call = (path: string, init: RequestInit) =>
      timed.handle(new Request(`http://api.test${path}`, init))
    const tokens = (await (
      await call('/token', {
        method: 'POST',
        body: new URLSearchParams({
          username: 'demo',
          password: 'demo-password',
        }),
      })
    ).json()) as { access_token: string; refresh_token: string }
    now += 1_000
    const me = await call('/me', {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    })
    expect(me.headers.get('www-authenticate')).toContain('token expired')
    now += 59_000
    const refreshed = await call('/refresh', {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
      }),
    })
    expect(await refreshed.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'refresh token expired',
    })
  })
})

describe('README: as a real server', () => {
  it('startAuthServer, log in with JSON, close', async () => {
    const auth = createAuthServer()
    const { url, close } = await startAuthServer(auth, {
      port: 0,
      host: '127.0.0.1',
    })
    try {
      const response = await fetch(`${url}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
      })
      expect(response.status).toBe(200)
    } finally {
      await close()
    }
  })
})

describe('README: the route tables', () => {
  const readme = readFileSync(
    new URL('../../README.md', import.meta.url),
    'utf8',
  )
  // First cells like `GET/POST /todos`, in the order of the README.
  const rows = [
    ...readme.matchAll(/^\| `([A-Z]+(?:\/[A-Z]+)* \/[^`]*)` +\|/gm),
  ].map((match) => match[1])

  it('list exactly the routes of the route table, in its order', () => {
    expect(rows).toEqual(ROUTES.map(describeRoute))
  })

  it('put the admin routes in their own table', () => {
    const admin = readme.slice(readme.indexOf('### Admin routes'))
    for (const route of ROUTES.filter((r) => r.path.startsWith(ADMIN_PREFIX)))
      expect(admin).toContain(`| \`${describeRoute(route)}\``)
  })
})
