import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterEach, describe, expect, it } from 'vitest'
import { authHandlers } from '../authHandlers.ts'
import { createAuthServer } from '../authServer.ts'
import { login, me } from './helpers.ts'

describe('authHandlers', () => {
  const msw = setupServer()
  msw.listen({ onUnhandledRequest: 'error' })
  afterEach(() => msw.resetHandlers())

  it('with a baseUrl, matches only that origin', async () => {
    msw.use(
      ...authHandlers(createAuthServer(), { baseUrl: 'http://api.test' }),
      http.all('*', () =>
        HttpResponse.json({ fallthrough: true }, { status: 418 }),
      ),
    )
    const tokens = await login('http://api.test')
    expect((await me('http://api.test', tokens.access_token)).status).toBe(200)
    expect(
      (await fetch('http://other.test/token', { method: 'POST' })).status,
    ).toBe(418)
  })

  it('with a baseUrl that has a path, routes below that prefix', async () => {
    msw.use(
      ...authHandlers(createAuthServer(), { baseUrl: 'http://api.test/v1/' }),
      http.all('*', () =>
        HttpResponse.json({ fallthrough: true }, { status: 418 }),
      ),
    )
    const tokens = await login('http://api.test/v1')
    expect((await me('http://api.test/v1', tokens.access_token)).status).toBe(
      200,
    )
    expect(
      (await fetch('http://api.test/token', { method: 'POST' })).status,
    ).toBe(418)
  })

  it('without a baseUrl, paths are relative (any origin in Node, the page origin in a browser)', async () => {
    msw.use(...authHandlers(createAuthServer()))
    const tokens = await login('http://localhost:5173')
    expect(
      (await me('http://localhost:5173', tokens.access_token)).status,
    ).toBe(200)
  })

  it('two servers under two origins are independent', async () => {
    const a = createAuthServer()
    const b = createAuthServer()
    msw.use(
      ...authHandlers(a, { baseUrl: 'http://a.test' }),
      ...authHandlers(b, { baseUrl: 'http://b.test' }),
    )
    await login('http://a.test')
    expect([a.stats.logins, b.stats.logins]).toEqual([1, 0])
  })
})
