import { describe, expect, it } from 'vitest'
import { createSession, normalizeTokenResponse } from '../index'
import { scriptedRefresh } from './helpers'

/** An unsigned JWT-shaped token: the library reads the payload and never checks a signature. */
const jwt = (claims: unknown, payload = JSON.stringify(claims)) =>
  [
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9',
    btoa(payload).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
    'c2lnbmF0dXJl',
  ].join('.')

// The server's clock, in seconds; the client's is an hour behind it.
const SERVER = 1_800_000_000
const CLIENT_MS = (SERVER - 3600) * 1000

describe('expiry from a JWT access token when the answer has no expires_in', () => {
  it('is receipt time + (exp - iat): a skewed client clock does not matter', () => {
    const token = jwt({ sub: 'demo', iat: SERVER, exp: SERVER + 900 })
    expect(
      normalizeTokenResponse({ access_token: token }, CLIENT_MS).expiresAt,
    ).toBe(CLIENT_MS + 900_000)
  })

  it('without iat, is exp on the local clock', () => {
    const token = jwt({ exp: SERVER + 60 })
    expect(
      normalizeTokenResponse({ access_token: token }, SERVER * 1000).expiresAt,
    ).toBe((SERVER + 60) * 1000)
  })

  it('reads base64url payloads with - and _ and without padding', () => {
    // '~~~' and '???' encode to base64url characters - and _.
    const token = jwt(null, `{"x":"~~~???","iat":1,"exp":61}`)
    expect(token.split('.')[1]).toMatch(/[-_]/)
    expect(normalizeTokenResponse({ access_token: token }, 0).expiresAt).toBe(
      60_000,
    )
  })

  it('expires_in, when present, wins', () => {
    const token = jwt({ iat: SERVER, exp: SERVER + 900 })
    expect(
      normalizeTokenResponse({ access_token: token, expires_in: 60 }, 0)
        .expiresAt,
    ).toBe(60_000)
  })

  it.each([
    ['an opaque token', 'opaque-access-token'],
    ['a payload that is not base64', 'a.%%%.c'],
    ['a payload that is not JSON', jwt(null, 'not json')],
    ['a payload that is null', jwt(null)],
    ['no exp', jwt({ iat: SERVER })],
    ['exp as a string', jwt({ iat: SERVER, exp: String(SERVER + 60) })],
    ['exp before iat', jwt({ iat: SERVER, exp: SERVER - 1 })],
    ['exp in the past, no iat', jwt({ exp: 1 })],
  ])('leaves expiresAt unset for %s, without throwing', (_, token) => {
    const tokens = normalizeTokenResponse({ access_token: token }, CLIENT_MS)
    expect(tokens).toEqual({ accessToken: token })
  })

  it('is off with jwtExpiry: false', () => {
    const token = jwt({ iat: SERVER, exp: SERVER + 900 })
    expect(
      normalizeTokenResponse({ access_token: token }, 0, { jwtExpiry: false }),
    ).toEqual({ accessToken: token })
  })

  it('is not applied to a TokenSet (camelCase): it has no receipt time', () => {
    const token = jwt({ iat: SERVER, exp: SERVER + 900 })
    expect(normalizeTokenResponse({ accessToken: token }, 0)).toEqual({
      accessToken: token,
    })
  })
})

describe('createSession with JWT expiry', () => {
  const lifetime = (n: number) => jwt({ n, iat: SERVER, exp: SERVER + 60 })

  it('refreshes early from a refresh answer without expires_in', async () => {
    let clock = CLIENT_MS
    const { refresh, calls } = scriptedRefresh(
      { access_token: lifetime(2) },
      { access_token: lifetime(3) },
    )
    const session = createSession({
      refresh,
      refreshLeewayMs: 5_000,
      now: () => clock,
    })
    await session.setTokens({ access_token: lifetime(1), refresh_token: 'r' })
    expect(session.getSnapshot().tokens?.expiresAt).toBe(CLIENT_MS + 60_000)
    clock += 50_000
    expect(await session.getAccessToken()).toBe(lifetime(1))
    expect(calls).toHaveLength(0)
    clock += 6_000 // 4 s left: inside the leeway
    expect(await session.getAccessToken()).toBe(lifetime(2))
    expect(calls).toHaveLength(1)
    // The new token's expiry comes from its own JWT, counted from its receipt.
    expect(session.getSnapshot().tokens).toEqual({
      accessToken: lifetime(2),
      refreshToken: 'r',
      expiresAt: clock + 60_000,
    })
    clock += 56_000
    expect(await session.getAccessToken()).toBe(lifetime(3))
    expect(calls).toHaveLength(2)
  })

  it('jwtExpiry: false leaves the refresh to the 401s', async () => {
    let clock = CLIENT_MS
    const { refresh, calls } = scriptedRefresh({ access_token: lifetime(2) })
    const session = createSession({
      refresh,
      jwtExpiry: false,
      now: () => clock,
    })
    await session.setTokens({ access_token: lifetime(1), refresh_token: 'r' })
    expect(session.getSnapshot().tokens?.expiresAt).toBeUndefined()
    clock += 3_600_000
    expect(await session.getAccessToken()).toBe(lifetime(1))
    expect(calls).toHaveLength(0)
  })

  it('an opaque token refreshed without expires_in has no expiry: the old one is not carried over', async () => {
    const { refresh } = scriptedRefresh({ access_token: 'opaque-2' })
    const session = createSession({ refresh, now: () => 0 })
    await session.setTokens({
      access_token: 'opaque-1',
      refresh_token: 'r',
      expires_in: 900,
    })
    expect(session.getSnapshot().tokens?.expiresAt).toBe(900_000)
    await session.refresh()
    expect(session.getSnapshot().tokens).toEqual({
      accessToken: 'opaque-2',
      refreshToken: 'r',
    })
  })
})
