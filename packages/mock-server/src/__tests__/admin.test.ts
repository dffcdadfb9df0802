import { describe, expect, it } from 'vitest'
import { json, login, me, modes, refresh, serverPerTest } from './helpers.ts'

describe.each(modes)('admin routes over %s', (mode) => {
  const start = serverPerTest(mode, {
    users: [
      { username: 'ada', password: 'a' },
      { username: 'bob', password: 'b' },
    ],
  })

  const post = (url: string, path: string, body?: unknown): Promise<Response> =>
    fetch(
      `${url}/__admin/${path}`,
      body === undefined ? { method: 'POST' } : json('POST', body),
    )

  it('GET /__admin/stats returns the counters', async () => {
    const { server, url } = await start()
    await login(url, { username: 'ada', password: 'a' })
    const response = await fetch(`${url}/__admin/stats`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ ...server.stats })
    expect(server.stats.logins).toBe(1)
  })

  it('POST /__admin/expire-access-tokens', async () => {
    const { url } = await start()
    const tokens = await login(url, { username: 'ada', password: 'a' })
    expect((await post(url, 'expire-access-tokens')).status).toBe(204)
    const response = await me(url, tokens.access_token)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('token expired')
    // The refresh token still works: this is the "access token expired" demo button.
    expect((await refresh(url, tokens.refresh_token)).status).toBe(200)
  })

  it('POST /__admin/revoke-sessions, for one user or everyone', async () => {
    const { server, url } = await start()
    const ada = await login(url, { username: 'ada', password: 'a' })
    const bob = await login(url, { username: 'bob', password: 'b' })
    expect(
      (await post(url, 'revoke-sessions', { username: 'ada' })).status,
    ).toBe(204)
    expect((await refresh(url, ada.refresh_token)).status).toBe(400)
    expect((await me(url, bob.access_token)).status).toBe(200)
    expect((await post(url, 'revoke-sessions')).status).toBe(204)
    expect((await refresh(url, bob.refresh_token)).status).toBe(400)
    expect(server.stats.revokedFamilies).toBe(2)
    expect((await post(url, 'revoke-sessions', { username: 7 })).status).toBe(
      400,
    )
  })

  it('POST /__admin/reset', async () => {
    const { server, url } = await start()
    const tokens = await login(url, { username: 'ada', password: 'a' })
    server.inject({ endpoint: 'token', kind: 'status', status: 500 })
    expect((await post(url, 'reset')).status).toBe(204)
    expect(server.stats.logins).toBe(0)
    expect(server.audit).toEqual([])
    expect((await refresh(url, tokens.refresh_token)).status).toBe(400)
    await expect(
      login(url, { username: 'ada', password: 'a' }),
    ).resolves.toMatchObject({ token_type: 'bearer' })
  })

  it('POST /__admin/faults queues a JSON-describable fault', async () => {
    const { url } = await start()
    expect(
      (
        await post(url, 'faults', {
          endpoint: 'token',
          kind: 'status',
          status: 503,
          times: 2,
        })
      ).status,
    ).toBe(204)
    expect(
      (
        await fetch(
          `${url}/token`,
          json('POST', { username: 'ada', password: 'a' }),
        )
      ).status,
    ).toBe(503)
    expect(
      (
        await fetch(
          `${url}/token`,
          json('POST', { username: 'ada', password: 'a' }),
        )
      ).status,
    ).toBe(503)
    await expect(
      login(url, { username: 'ada', password: 'a' }),
    ).resolves.toBeDefined()
    const bad = await post(url, 'faults', { endpoint: 'token', kind: 'gate' })
    expect(bad.status).toBe(422)
    expect(
      await post(url, 'faults', { endpoint: 'nowhere', kind: 'hang' }),
    ).toHaveProperty('status', 422)
  })

  it('GET /__admin/audit returns the audit log', async () => {
    const { server, url } = await start()
    await login(url, { username: 'ada', password: 'a' })
    const response = await fetch(`${url}/__admin/audit`)
    expect(await response.json()).toEqual(server.audit)
  })

  it('admin routes are never faulted', async () => {
    const { server, url } = await start()
    server.inject({ endpoint: 'any', kind: 'network-error' })
    expect((await fetch(`${url}/__admin/stats`)).status).toBe(200)
    expect(server.stats.faults).toBe(0)
  })
})
