import { SignJWT, base64url, decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { createAuthServer } from '../authServer.ts'
import {
  form,
  login,
  manualClock,
  me,
  modes,
  serverPerTest,
} from './helpers.ts'

const SECRET =
  'a-test-secret-that-is-long-enough-for-hs256-and-hs512-0123456789'
const key = new TextEncoder().encode(SECRET)

const encode = (value: unknown): string =>
  base64url.encode(new TextEncoder().encode(JSON.stringify(value)))

function parts(token: string): [string, string, string] {
  const [header, payload, signature] = token.split('.')
  return [header!, payload!, signature!]
}

const invalid = (description: string): string =>
  `Bearer error="invalid_token", error_description="${description}"`

describe.each(modes)('access tokens over %s', (mode) => {
  const start = serverPerTest(mode, { secret: SECRET })

  async function expectRejected(
    url: string,
    token: string,
    description: string,
  ): Promise<void> {
    const response = await me(url, token)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe(invalid(description))
    expect(await response.json()).toEqual({
      error: 'invalid_token',
      error_description: description,
    })
  }

  it('issues HS256 JWTs with sub, jti, iat, exp and typ', async () => {
    const clock = manualClock()
    const { url } = await start({ now: clock.now })
    const { access_token } = await login(url)
    const [header] = parts(access_token)
    expect(
      JSON.parse(new TextDecoder().decode(base64url.decode(header))),
    ).toEqual({
      alg: 'HS256',
      typ: 'JWT',
    })
    const claims = decodeJwt(access_token)
    expect(claims).toEqual({
      sub: 'demo',
      jti: expect.any(String),
      iat: clock.now() / 1000,
      exp: clock.now() / 1000 + 900,
      typ: 'access',
    })
  })

  it('no credentials: a bare challenge without an error code (RFC 6750 §3)', async () => {
    const { server, url } = await start()
    for (const headers of [{}, { Authorization: 'Basic ZGVtbzpkZW1v' }]) {
      const response = await fetch(`${url}/me`, { headers })
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toBe(
        'Bearer realm="tokenflight-mock"',
      )
    }
    expect(server.stats.unauthorized).toBe(2)
  })

  it('a Bearer header without a token is malformed', async () => {
    const { url } = await start()
    const response = await fetch(`${url}/me`, {
      headers: { Authorization: 'Bearer ' },
    })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe(
      invalid('malformed Authorization header'),
    )
  })

  it('rejects alg: none', async () => {
    const { url } = await start()
    const { access_token } = await login(url)
    const [, payload] = parts(access_token)
    await expectRejected(
      url,
      `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'signing algorithm not allowed',
    )
  })

  it('rejects another HMAC algorithm with the right key (HS512)', async () => {
    const { url } = await start()
    const { access_token } = await login(url)
    const claims = decodeJwt(access_token)
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS512' })
      .sign(key)
    await expectRejected(url, forged, 'signing algorithm not allowed')
  })

  it('rejects an RS256-shaped header (algorithm confusion)', async () => {
    const { url } = await start()
    const { access_token } = await login(url)
    const [, payload, signature] = parts(access_token)
    await expectRejected(
      url,
      `${encode({ alg: 'RS256', typ: 'JWT' })}.${payload}.${signature}`,
      'signing algorithm not allowed',
    )
  })

  it('rejects a tampered payload and a tampered signature', async () => {
    const { url } = await start({
      users: [
        { username: 'demo', password: 'x' },
        { username: 'root', password: 'y' },
      ],
    })
    const { access_token } = await login(url, {
      username: 'demo',
      password: 'x',
    })
    const [header, payload, signature] = parts(access_token)
    const claims = decodeJwt(access_token)
    await expectRejected(
      url,
      `${header}.${encode({ ...claims, sub: 'root' })}.${signature}`,
      'signature verification failed',
    )
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1)
    await expectRejected(
      url,
      `${header}.${payload}.${flipped}`,
      'signature verification failed',
    )
    await expectRejected(url, 'not-a-jwt', 'malformed token')
  })

  it('rejects a token signed with the right key but never issued, or not an access token', async () => {
    const { url } = await start()
    const now = Math.floor(Date.now() / 1000)
    const unknown = await new SignJWT({ typ: 'access' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('demo')
      .setJti('made-up')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(key)
    await expectRejected(url, unknown, 'unknown token')
    const wrongType = await new SignJWT({ typ: 'refresh' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('demo')
      .setJti('made-up')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(key)
    await expectRejected(url, wrongType, 'not an access token')
  })

  it('expires at millisecond resolution with the injected clock', async () => {
    // Start mid-second so a whole-second `exp` alone would expire too early.
    const clock = manualClock(Date.UTC(2030, 0, 1) + 700)
    const { url } = await start({ now: clock.now, accessTokenTtlSec: 1 })
    const { access_token } = await login(url)
    clock.advance(999)
    expect((await me(url, access_token)).status).toBe(200)
    clock.advance(1)
    await expectRejected(url, access_token, 'token expired')
    clock.advance(5_000)
    await expectRejected(url, access_token, 'token expired')
  })

  it('rejects a revoked jti', async () => {
    const { url } = await start()
    const { access_token } = await login(url)
    expect(
      (await fetch(`${url}/revoke`, form({ token: access_token }))).status,
    ).toBe(200)
    await expectRejected(url, access_token, 'token revoked')
  })

  it('expireAccessTokens(): every token issued so far is expired, new ones work', async () => {
    const { server, url } = await start()
    const a = await login(url)
    const b = await login(url)
    server.expireAccessTokens()
    await expectRejected(url, a.access_token, 'token expired')
    await expectRejected(url, b.access_token, 'token expired')
    const c = await login(url)
    expect((await me(url, c.access_token)).status).toBe(200)
    expect(server.stats).toMatchObject({ unauthorized: 2, served: 1 })
  })

  it('revokeSessions(username) revokes that user only; revokeSessions() everyone', async () => {
    const { server, url } = await start({
      users: [
        { username: 'ada', password: 'a' },
        { username: 'bob', password: 'b' },
      ],
    })
    const ada1 = await login(url, { username: 'ada', password: 'a' })
    const ada2 = await login(url, { username: 'ada', password: 'a' })
    const bob = await login(url, { username: 'bob', password: 'b' })
    server.revokeSessions('ada')
    await expectRejected(url, ada1.access_token, 'token revoked')
    await expectRejected(url, ada2.access_token, 'token revoked')
    expect((await me(url, bob.access_token)).status).toBe(200)
    expect(server.stats.revokedFamilies).toBe(2)
    server.revokeSessions()
    await expectRejected(url, bob.access_token, 'token revoked')
    expect(server.stats.revokedFamilies).toBe(3)
  })

  it('reset(): forgets every token; users stay', async () => {
    const { server, url } = await start()
    const before = await login(url)
    server.reset()
    await expectRejected(url, before.access_token, 'unknown token')
    expect(server.stats.unauthorized).toBe(1)
    const after = await login(url)
    expect((await me(url, after.access_token)).status).toBe(200)
  })
})

describe('createAuthServer options', () => {
  it('rejects negative or non-finite lifetimes', () => {
    expect(() => createAuthServer({ accessTokenTtlSec: -1 })).toThrow(
      RangeError,
    )
    expect(() => createAuthServer({ reuseIntervalSec: Number.NaN })).toThrow(
      RangeError,
    )
  })

  it('uses a different random key per server', async () => {
    const a = createAuthServer()
    const b = createAuthServer()
    const token = (await (
      await a.handle(
        new Request(
          'http://x/token',
          form({ username: 'demo', password: 'demo-password' }),
        ),
      )
    ).json()) as { access_token: string }
    const response = await b.handle(
      new Request('http://x/me', {
        headers: { Authorization: `Bearer ${token.access_token}` },
      }),
    )
    expect(response.headers.get('www-authenticate')).toBe(
      invalid('signature verification failed'),
    )
  })
})
