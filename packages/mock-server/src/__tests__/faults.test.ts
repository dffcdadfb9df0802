import { describe, expect, it } from 'vitest'
import { createAuthServer } from '../authServer.ts'
import {
  deferred,
  login,
  me,
  modes,
  refresh,
  serverPerTest,
  type TokenBody,
} from './helpers.ts'

describe.each(modes)('faults over %s', (mode) => {
  const start = serverPerTest(mode)

  it('status: answers with the status and body, then the endpoint is normal again', async () => {
    const { server, url } = await start()
    const tokens = await login(url)
    server.inject({
      endpoint: 'refresh',
      kind: 'status',
      status: 503,
      body: { detail: 'down' },
    })
    const failed = await refresh(url, tokens.refresh_token)
    expect(failed.status).toBe(503)
    expect(await failed.json()).toEqual({ detail: 'down' })
    // Nothing was rotated: the same refresh token still works.
    expect((await refresh(url, tokens.refresh_token)).status).toBe(200)
    expect(server.stats).toMatchObject({
      faults: 1,
      refreshes: 1,
      failedRefreshes: 0,
    })
  })

  it('status without a body gets a default JSON body; 401 gets a challenge', async () => {
    const { server, url } = await start()
    const tokens = await login(url)
    server.inject({ endpoint: 'me', kind: 'status', status: 401 })
    const response = await me(url, tokens.access_token)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain(
      'error="invalid_token"',
    )
    expect(await response.json()).toMatchObject({ error: 'injected_fault' })
  })

  it('times: consumes one per call of that endpoint only', async () => {
    const { server, url } = await start()
    const tokens = await login(url)
    server.inject({ endpoint: 'me', kind: 'status', status: 500, times: 2 })
    expect(
      (
        await fetch(`${url}/todos`, {
          headers: { Authorization: `Bearer ${tokens.access_token}` },
        })
      ).status,
    ).toBe(200)
    expect((await me(url, tokens.access_token)).status).toBe(500)
    expect((await me(url, tokens.access_token)).status).toBe(500)
    expect((await me(url, tokens.access_token)).status).toBe(200)
  })

  it("'any' matches every endpoint; faults apply in injection order", async () => {
    const { server, url } = await start()
    server.inject({ endpoint: 'any', kind: 'status', status: 502 })
    server.inject({ endpoint: 'token', kind: 'status', status: 504 })
    const first = await fetch(`${url}/token`, { method: 'POST' })
    const second = await fetch(`${url}/token`, { method: 'POST' })
    expect([first.status, second.status]).toEqual([502, 504])
    expect((await login(url)).token_type).toBe('bearer')
  })

  it('network-error: the client sees a failed fetch', async () => {
    const { server, url } = await start()
    server.inject({ endpoint: 'token', kind: 'network-error' })
    await expect(login(url)).rejects.toThrow(TypeError)
    expect(server.stats.logins).toBe(0)
    await expect(login(url)).resolves.toMatchObject({ token_type: 'bearer' })
  })

  it('malformed: 200 with a body that is not a token response', async () => {
    const { server, url } = await start()
    const tokens = await login(url)
    server.inject({ endpoint: 'refresh', kind: 'malformed' })
    const response = await refresh(url, tokens.refresh_token)
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('not json')
    server.inject({
      endpoint: 'refresh',
      kind: 'malformed',
      body: '{"access_token":42}',
    })
    expect(await (await refresh(url, tokens.refresh_token)).json()).toEqual({
      access_token: 42,
    })
    // Nothing rotated.
    expect((await refresh(url, tokens.refresh_token)).status).toBe(200)
  })

  it('drop-after-rotate: the server rotates, the client never sees the new pair', async () => {
    const { server, url } = await start()
    const tokens = await login(url)
    server.inject({ endpoint: 'refresh', kind: 'drop-after-rotate' })
    await expect(refresh(url, tokens.refresh_token)).rejects.toThrow(TypeError)
    expect(server.stats).toMatchObject({ refreshes: 1, rotations: 1 })
    // The client retries with the token it still has: that is now a replay.
    const retry = await refresh(url, tokens.refresh_token)
    expect(retry.status).toBe(400)
    expect(server.stats.reuseDetections).toBe(1)
  })

  it('gate: holds the answer until the test opens it, then answers normally', async () => {
    const { server, url } = await start()
    const tokens = await login(url)
    const gate = deferred()
    server.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })
    let settled = false
    const pending = refresh(url, tokens.refresh_token).then((response) => {
      settled = true
      return response
    })
    // Another endpoint is not held.
    expect((await me(url, tokens.access_token)).status).toBe(200)
    expect(settled).toBe(false)
    expect(server.stats.refreshes).toBe(0)
    gate.resolve()
    const response = await pending
    expect(response.status).toBe(200)
    expect(((await response.json()) as TokenBody).token_type).toBe('bearer')
  })

  it('gate: a rejected gate also lets the request through normally', async () => {
    const { server, url } = await start()
    const gate = deferred()
    server.inject({ endpoint: 'token', kind: 'gate', until: gate.promise })
    const pending = login(url)
    await expect.poll(() => server.stats.faults).toBe(1)
    gate.reject(new Error('opened by failing'))
    await expect(pending).resolves.toMatchObject({ token_type: 'bearer' })
  })

  it('gate: a client abort while held ends the request without running the route', async () => {
    const { server, url } = await start()
    const tokens = await login(url)
    const gate = deferred()
    server.inject({ endpoint: 'refresh', kind: 'gate', until: gate.promise })
    const controller = new AbortController()
    const pending = fetch(`${url}/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: tokens.refresh_token }),
      signal: controller.signal,
    })
    await expect.poll(() => server.stats.faults).toBe(1)
    controller.abort()
    await expect(pending).rejects.toThrow(/abort/i)
    // The server sees the abort a moment later (over a socket: when it closes).
    await expect
      .poll(() => server.audit.at(-1)?.outcome)
      .toBe('gate on refresh: aborted by the client')
    gate.resolve()
    // The refresh token was never rotated.
    expect((await refresh(url, tokens.refresh_token)).status).toBe(200)
    expect(server.stats).toMatchObject({ refreshes: 1, reuseDetections: 0 })
  })

  it('delay: answers normally after the delay', async () => {
    const { server, url } = await start()
    server.inject({ endpoint: 'token', kind: 'delay', ms: 30 })
    const started = performance.now()
    await login(url)
    expect(performance.now() - started).toBeGreaterThanOrEqual(25)
  })

  it('hang: never answers until the client aborts', async () => {
    const { server, url } = await start()
    const tokens = await login(url)
    server.inject({ endpoint: 'me', kind: 'hang' })
    const controller = new AbortController()
    const pending = fetch(`${url}/me`, {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
      signal: controller.signal,
    })
    // The next call is not affected while the first one hangs.
    expect((await me(url, tokens.access_token)).status).toBe(200)
    controller.abort()
    await expect(pending).rejects.toThrow(/abort/i)
  })

  it('reset() forgets queued faults and releases hung requests', async () => {
    const { server, url } = await start()
    server.inject({ endpoint: 'token', kind: 'hang' })
    const hung = login(url)
    // Let the request reach the server before resetting.
    await expect.poll(() => server.stats.faults).toBe(1)
    server.inject({ endpoint: 'token', kind: 'network-error' })
    server.reset()
    await expect(hung).rejects.toThrow(TypeError)
    await expect(login(url)).resolves.toMatchObject({ token_type: 'bearer' })
  })

  it('rejects a bad times value', () => {
    const server = createAuthServer()
    expect(() =>
      server.inject({ endpoint: 'me', kind: 'hang', times: 0 }),
    ).toThrow(RangeError)
  })
})
