import { describe, expect, it } from 'vitest'
import {
  form,
  json,
  login,
  manualClock,
  modes,
  refresh,
  serverPerTest,
  type TokenBody,
} from './helpers.ts'

describe.each(modes)('stats and audit over %s', (mode) => {
  const start = serverPerTest(mode)

  it('record every token event with time, user, family and outcome, never a token', async () => {
    const clock = manualClock()
    const { server, url } = await start({ now: clock.now })
    const issued: string[] = []
    const keep = (tokens: TokenBody): TokenBody => {
      issued.push(tokens.access_token, tokens.refresh_token)
      return tokens
    }
    const first = keep(await login(url))
    await fetch(`${url}/token`, form({ username: 'demo', password: 'wrong' }))
    const second = keep(
      (await (await refresh(url, first.refresh_token)).json()) as TokenBody,
    )
    clock.advance(1000)
    await refresh(url, first.refresh_token) // replay → family revoked
    const third = keep(await login(url))
    await fetch(`${url}/revoke`, form({ token: third.access_token }))
    await fetch(
      `${url}/logout`,
      json('POST', { refresh_token: third.refresh_token }),
    )
    server.expireAccessTokens()
    server.revokeSessions('demo')

    const audit = server.audit
    expect(audit.map((e) => [e.event, e.outcome])).toEqual([
      ['login', 'ok'],
      ['login', 'invalid_credentials'],
      ['refresh', 'rotated'],
      ['reuse-detected', 'family_revoked'],
      ['login', 'ok'],
      ['revoke', 'access_token_revoked'],
      ['logout', 'family_revoked'],
      ['expire-access-tokens', 'ok'],
      ['revoke-sessions', 'revoked 0 families'],
    ])
    const family = audit[0]!.family
    expect(family).toMatch(/^fam_/)
    expect(audit[2]).toEqual({
      at: clock.now() - 1000,
      event: 'refresh',
      user: 'demo',
      family,
      outcome: 'rotated',
    })
    expect(audit[3]).toMatchObject({ at: clock.now(), user: 'demo', family })
    expect(audit[4]!.family).not.toBe(family)

    const everything = JSON.stringify([server.stats, server.audit])
    for (const token of [...issued, second.access_token]) {
      expect(everything).not.toContain(token)
      // Not even a piece of one.
      expect(everything).not.toContain(token.slice(-16))
    }
    const fromAdmin = await (await fetch(`${url}/__admin/audit`)).text()
    for (const token of issued)
      expect(fromAdmin).not.toContain(token.slice(-16))

    expect(server.stats).toEqual({
      logins: 2,
      failedLogins: 1,
      refreshes: 1,
      failedRefreshes: 1,
      rotations: 1,
      reuseDetections: 1,
      revokedFamilies: 2,
      unauthorized: 0,
      served: 0,
      faults: 0,
    })
  })

  it('stats and audit are snapshots the caller cannot change', async () => {
    const { server, url } = await start()
    await login(url)
    const stats = server.stats
    expect(() => {
      ;(stats as { logins: number }).logins = 99
    }).toThrow(TypeError)
    expect(server.stats.logins).toBe(1)
    expect(Object.isFrozen(server.audit)).toBe(true)
  })

  it('keeps only the most recent auditLimit entries', async () => {
    const { server, url } = await start({ auditLimit: 3 })
    for (let i = 0; i < 5; i++) await login(url)
    expect(server.audit).toHaveLength(3)
    expect(server.stats.logins).toBe(5)
  })
})
