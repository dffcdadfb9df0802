import { describe, expect, it } from 'vitest'
import {
  bearer,
  form,
  json,
  login,
  manualClock,
  me,
  modes,
  refresh,
  serverPerTest,
  type TokenBody,
} from './helpers.ts'

describe.each(modes)('tokens over %s', (mode) => {
  const start = serverPerTest(mode)

  describe('POST /token', () => {
    it('logs the demo user in with a form body (OAuth2PasswordRequestForm)', async () => {
      const { server, url } = await start()
      const response = await fetch(
        `${url}/token`,
        form({ username: 'demo', password: 'demo-password' }),
      )
      expect(response.status).toBe(200)
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(response.headers.get('pragma')).toBe('no-cache')
      const body = (await response.json()) as TokenBody
      expect(body).toEqual({
        access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
        refresh_token: expect.stringMatching(/^[\w-]{43}$/),
        token_type: 'bearer',
        expires_in: 900,
      })
      expect(server.stats.logins).toBe(1)
      const who = await me(url, body.access_token)
      expect(who.status).toBe(200)
      expect(await who.json()).toEqual({ username: 'demo' })
    })

    it('logs in with a JSON body and custom users', async () => {
      const { url } = await start({
        users: [{ username: 'ada', password: 'lovelace' }],
      })
      const response = await fetch(
        `${url}/token`,
        json('POST', { username: 'ada', password: 'lovelace' }),
      )
      expect(response.status).toBe(200)
      const body = (await response.json()) as TokenBody
      expect(await (await me(url, body.access_token)).json()).toEqual({
        username: 'ada',
      })
    })

    it('rejects a wrong password with invalid_grant and issues nothing', async () => {
      const { server, url } = await start()
      const response = await fetch(
        `${url}/token`,
        form({ username: 'demo', password: 'nope' }),
      )
      expect(response.status).toBe(400)
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(await response.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'invalid username or password',
      })
      expect(server.stats).toMatchObject({ logins: 0, failedLogins: 1 })
    })

    it('also accepts grant_type=refresh_token at /token', async () => {
      const { url } = await start()
      const first = await login(url)
      const response = await fetch(
        `${url}/token`,
        form({
          grant_type: 'refresh_token',
          refresh_token: first.refresh_token,
        }),
      )
      expect(response.status).toBe(200)
    })
  })

  describe('POST /refresh', () => {
    it('rotates: a new pair, the old refresh token is spent', async () => {
      const { server, url } = await start()
      const first = await login(url)
      const response = await refresh(url, first.refresh_token)
      expect(response.status).toBe(200)
      expect(response.headers.get('cache-control')).toBe('no-store')
      const second = (await response.json()) as TokenBody
      expect(second.refresh_token).not.toBe(first.refresh_token)
      expect(second.access_token).not.toBe(first.access_token)
      expect((await me(url, second.access_token)).status).toBe(200)
      expect(server.stats).toMatchObject({
        refreshes: 1,
        rotations: 1,
        failedRefreshes: 0,
      })
    })

    it('accepts the form grant (grant_type=refresh_token)', async () => {
      const { url } = await start()
      const first = await login(url)
      const response = await fetch(
        `${url}/refresh`,
        form({
          grant_type: 'refresh_token',
          refresh_token: first.refresh_token,
        }),
      )
      expect(response.status).toBe(200)
    })

    it('a replayed rotated token revokes the whole family and its access tokens', async () => {
      const { server, url } = await start()
      const first = await login(url)
      const second = (await (
        await refresh(url, first.refresh_token)
      ).json()) as TokenBody
      const replay = await refresh(url, first.refresh_token)
      expect(replay.status).toBe(400)
      expect(await replay.json()).toMatchObject({ error: 'invalid_grant' })
      // The legitimate newest tokens die with the family.
      expect((await refresh(url, second.refresh_token)).status).toBe(400)
      const denied = await me(url, second.access_token)
      expect(denied.status).toBe(401)
      expect(denied.headers.get('www-authenticate')).toBe(
        'Bearer error="invalid_token", error_description="token revoked"',
      )
      expect((await me(url, first.access_token)).status).toBe(401)
      expect(server.stats).toMatchObject({
        reuseDetections: 1,
        revokedFamilies: 1,
        refreshes: 1,
      })
      // Another login is a new family and unaffected.
      const other = await login(url)
      expect((await me(url, other.access_token)).status).toBe(200)
    })

    it('rejects an unknown refresh token with invalid_grant', async () => {
      const { server, url } = await start()
      const response = await refresh(url, 'not-a-token-we-issued')
      expect(response.status).toBe(400)
      expect(await response.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'refresh token is invalid',
      })
      expect(server.stats.failedRefreshes).toBe(1)
    })

    it('20 concurrent refreshes with one token at reuse interval 0: exactly one succeeds', async () => {
      const { server, url } = await start()
      const first = await login(url)
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => refresh(url, first.refresh_token)),
      )
      const statuses = responses.map((r) => r.status)
      expect(statuses.filter((s) => s === 200)).toHaveLength(1)
      expect(statuses.filter((s) => s === 400)).toHaveLength(19)
      expect(server.stats).toMatchObject({
        refreshes: 1,
        rotations: 1,
        failedRefreshes: 19,
      })
      // The 19 replays are reuse: the family (with the winner's tokens) is revoked once.
      expect(server.stats).toMatchObject({
        reuseDetections: 1,
        revokedFamilies: 1,
      })
    })

    it('never extends the family lifetime by rotation (absolute refreshTokenTtlSec)', async () => {
      const clock = manualClock()
      const { server, url } = await start({
        now: clock.now,
        refreshTokenTtlSec: 100,
        accessTokenTtlSec: 30,
      })
      let tokens = await login(url)
      for (let i = 0; i < 3; i++) {
        clock.advance(30_000)
        const response = await refresh(url, tokens.refresh_token)
        expect(response.status).toBe(200)
        tokens = (await response.json()) as TokenBody
      }
      // 90 s after login: still inside the family's 100 s.
      clock.advance(9_999)
      const last = await refresh(url, tokens.refresh_token)
      expect(last.status).toBe(200)
      tokens = (await last.json()) as TokenBody
      clock.advance(1)
      const expired = await refresh(url, tokens.refresh_token)
      expect(expired.status).toBe(400)
      expect(await expired.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'refresh token expired',
      })
      expect(server.stats.reuseDetections).toBe(0)
    })
  })

  describe('reuse interval (Auth0 behaviour: the immediate parent gets a new child)', () => {
    it('accepts the immediate parent inside the interval and issues a fresh sibling', async () => {
      const clock = manualClock()
      const { server, url } = await start({
        now: clock.now,
        reuseIntervalSec: 10,
      })
      const first = await login(url)
      const a = (await (
        await refresh(url, first.refresh_token)
      ).json()) as TokenBody
      clock.advance(9_999)
      const again = await refresh(url, first.refresh_token)
      expect(again.status).toBe(200)
      const b = (await again.json()) as TokenBody
      expect(b.refresh_token).not.toBe(a.refresh_token)
      // Both children stay valid: the tab that got `a` is not punished.
      expect((await me(url, a.access_token)).status).toBe(200)
      expect((await me(url, b.access_token)).status).toBe(200)
      expect((await refresh(url, a.refresh_token)).status).toBe(200)
      expect((await refresh(url, b.refresh_token)).status).toBe(200)
      expect(server.stats).toMatchObject({
        reuseDetections: 0,
        refreshes: 4,
        rotations: 3,
      })
    })

    it('outside the interval the parent is a replay: family revoked', async () => {
      const clock = manualClock()
      const { server, url } = await start({
        now: clock.now,
        reuseIntervalSec: 10,
      })
      const first = await login(url)
      const a = (await (
        await refresh(url, first.refresh_token)
      ).json()) as TokenBody
      clock.advance(10_000)
      expect((await refresh(url, first.refresh_token)).status).toBe(400)
      expect((await me(url, a.access_token)).status).toBe(401)
      expect(server.stats).toMatchObject({
        reuseDetections: 1,
        revokedFamilies: 1,
      })
    })

    it('a grandparent is never accepted, even inside the interval', async () => {
      const clock = manualClock()
      const { server, url } = await start({
        now: clock.now,
        reuseIntervalSec: 10,
      })
      const first = await login(url)
      const a = (await (
        await refresh(url, first.refresh_token)
      ).json()) as TokenBody
      const b = (await (
        await refresh(url, a.refresh_token)
      ).json()) as TokenBody
      clock.advance(1_000)
      expect((await refresh(url, first.refresh_token)).status).toBe(400)
      expect((await refresh(url, b.refresh_token)).status).toBe(400)
      expect(server.stats).toMatchObject({
        reuseDetections: 1,
        revokedFamilies: 1,
      })
    })

    it('concurrent refreshes with one token inside the interval all succeed', async () => {
      const { server, url } = await start({ reuseIntervalSec: 30 })
      const first = await login(url)
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => refresh(url, first.refresh_token)),
      )
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200])
      expect(server.stats).toMatchObject({
        refreshes: 5,
        rotations: 1,
        reuseDetections: 0,
      })
    })
  })

  describe('POST /logout', () => {
    it('revokes the presented access token and its family', async () => {
      const { server, url } = await start()
      const tokens = await login(url)
      const response = await fetch(
        `${url}/logout`,
        json(
          'POST',
          { refresh_token: tokens.refresh_token },
          tokens.access_token,
        ),
      )
      expect(response.status).toBe(204)
      expect((await me(url, tokens.access_token)).status).toBe(401)
      expect((await refresh(url, tokens.refresh_token)).status).toBe(400)
      expect(server.stats.revokedFamilies).toBe(1)
    })

    it('works with the bearer token alone (the family comes from the token)', async () => {
      const { url } = await start()
      const tokens = await login(url)
      expect(
        (
          await fetch(
            `${url}/logout`,
            bearer(tokens.access_token, { method: 'POST' }),
          )
        ).status,
      ).toBe(204)
      expect((await refresh(url, tokens.refresh_token)).status).toBe(400)
    })

    it('works with the refresh token alone (expired access token)', async () => {
      const { server, url } = await start()
      const tokens = await login(url)
      server.expireAccessTokens()
      expect(
        (
          await fetch(
            `${url}/logout`,
            json('POST', { refresh_token: tokens.refresh_token }),
          )
        ).status,
      ).toBe(204)
      expect((await refresh(url, tokens.refresh_token)).status).toBe(400)
    })

    it('revokes the refresh token whatever the bearer says (expired, revoked, garbage)', async () => {
      const clock = manualClock()
      const { server, url } = await start({
        now: clock.now,
        accessTokenTtlSec: 60,
      })
      const expired = await login(url)
      const revoked = await login(url)
      const garbage = await login(url)
      clock.advance(60_000) // every access token above has expired
      await fetch(`${url}/revoke`, form({ token: revoked.access_token }))
      for (const [tokens, accessToken] of [
        [expired, expired.access_token],
        [revoked, revoked.access_token],
        [garbage, 'not-a-jwt'],
      ] as const) {
        const response = await fetch(
          `${url}/logout`,
          json('POST', { refresh_token: tokens.refresh_token }, accessToken),
        )
        expect(response.status).toBe(204)
        expect((await refresh(url, tokens.refresh_token)).status).toBe(400)
      }
      expect(server.stats.revokedFamilies).toBe(3)
    })

    it('a bearer of another user does not shield the presented refresh token', async () => {
      const { server, url } = await start({
        users: [
          { username: 'ada', password: 'a' },
          { username: 'bob', password: 'b' },
        ],
      })
      const ada = await login(url, { username: 'ada', password: 'a' })
      const bob = await login(url, { username: 'bob', password: 'b' })
      const response = await fetch(
        `${url}/logout`,
        json('POST', { refresh_token: bob.refresh_token }, ada.access_token),
      )
      expect(response.status).toBe(204)
      expect((await refresh(url, bob.refresh_token)).status).toBe(400)
      expect((await refresh(url, ada.refresh_token)).status).toBe(400)
      expect(server.stats.revokedFamilies).toBe(2)
    })

    it('an invalid bearer with no refresh token it could revoke is still a 401', async () => {
      const { url } = await start()
      const tokens = await login(url)
      const unknown = await fetch(
        `${url}/logout`,
        json('POST', { refresh_token: 'unknown' }, 'not-a-jwt'),
      )
      expect(unknown.status).toBe(401)
      const bare = await fetch(
        `${url}/logout`,
        bearer('not-a-jwt', { method: 'POST' }),
      )
      expect(bare.status).toBe(401)
      expect((await refresh(url, tokens.refresh_token)).status).toBe(200)
    })

    it('needs credentials', async () => {
      const { url } = await start()
      const response = await fetch(`${url}/logout`, { method: 'POST' })
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toBe(
        'Bearer realm="tokenflight-mock"',
      )
    })

    it('leaves other sessions of the same user alone', async () => {
      const { url } = await start()
      const phone = await login(url)
      const laptop = await login(url)
      await fetch(
        `${url}/logout`,
        bearer(phone.access_token, { method: 'POST' }),
      )
      expect((await me(url, laptop.access_token)).status).toBe(200)
      expect((await refresh(url, laptop.refresh_token)).status).toBe(200)
    })
  })

  describe('POST /revoke (RFC 7009)', () => {
    it('revoking a refresh token revokes its family and access tokens', async () => {
      const { server, url } = await start()
      const tokens = await login(url)
      const response = await fetch(
        `${url}/revoke`,
        form({ token: tokens.refresh_token, token_type_hint: 'refresh_token' }),
      )
      expect(response.status).toBe(200)
      expect((await refresh(url, tokens.refresh_token)).status).toBe(400)
      expect((await me(url, tokens.access_token)).status).toBe(401)
      expect(server.stats.revokedFamilies).toBe(1)
    })

    it('revoking an access token revokes only that token', async () => {
      const { url } = await start()
      const tokens = await login(url)
      expect(
        (await fetch(`${url}/revoke`, form({ token: tokens.access_token })))
          .status,
      ).toBe(200)
      expect((await me(url, tokens.access_token)).status).toBe(401)
      expect((await refresh(url, tokens.refresh_token)).status).toBe(200)
    })

    it('answers 200 for unknown tokens and twice-revoked ones', async () => {
      const { url } = await start()
      const tokens = await login(url)
      expect(
        (await fetch(`${url}/revoke`, form({ token: 'never-issued' }))).status,
      ).toBe(200)
      expect(
        (await fetch(`${url}/revoke`, form({ token: tokens.refresh_token })))
          .status,
      ).toBe(200)
      expect(
        (await fetch(`${url}/revoke`, form({ token: tokens.refresh_token })))
          .status,
      ).toBe(200)
    })

    it('requires the token parameter', async () => {
      const { url } = await start()
      const response = await fetch(
        `${url}/revoke`,
        form({ token_type_hint: 'refresh_token' }),
      )
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({ error: 'invalid_request' })
    })
  })
})
