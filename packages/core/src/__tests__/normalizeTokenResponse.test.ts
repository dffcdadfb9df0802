import { describe, expect, it } from 'vitest'
import { InvalidTokenResponseError, normalizeTokenResponse } from '../index'
import { expectNoSecrets } from './helpers'

const AT = 'at-SECRET-8f2c'
const RT = 'rt-SECRET-51aa'

describe('normalizeTokenResponse', () => {
  it('turns a raw OAuth2 body into a TokenSet with expiresAt from the receipt time', () => {
    expect(
      normalizeTokenResponse(
        {
          access_token: AT,
          refresh_token: RT,
          token_type: 'bearer',
          expires_in: 900,
        },
        1_000,
      ),
    ).toEqual({
      accessToken: AT,
      refreshToken: RT,
      tokenType: 'Bearer',
      expiresAt: 901_000,
    })
  })

  it('keeps only what the body has', () => {
    const tokens = normalizeTokenResponse({ access_token: AT })
    expect(tokens).toEqual({ accessToken: AT })
    expect(Object.keys(tokens)).toEqual(['accessToken'])
  })

  it('accepts bearer in any case and normalises it', () => {
    for (const type of ['Bearer', 'BEARER', 'bEaReR'])
      expect(
        normalizeTokenResponse({ access_token: AT, token_type: type })
          .tokenType,
      ).toBe('Bearer')
  })

  it('treats null optional fields as absent (pydantic serialises None as null)', () => {
    expect(
      normalizeTokenResponse({
        access_token: AT,
        refresh_token: null,
        expires_in: null,
        token_type: null,
      }),
    ).toEqual({ accessToken: AT })
  })

  it('accepts expires_in as a canonical decimal string', () => {
    expect(
      normalizeTokenResponse({ access_token: AT, expires_in: '3600' }, 0)
        .expiresAt,
    ).toBe(3_600_000)
  })

  it('accepts fractional seconds', () => {
    expect(
      normalizeTokenResponse({ access_token: AT, expires_in: 1.5 }, 0)
        .expiresAt,
    ).toBe(1500)
  })

  it('uses Date.now() when no receipt time is given', () => {
    const before = Date.now()
    const { expiresAt } = normalizeTokenResponse({
      access_token: AT,
      expires_in: 10,
    })
    expect(expiresAt).toBeGreaterThanOrEqual(before + 10_000)
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 10_000)
  })

  it('accepts a TokenSet as is', () => {
    const set = {
      accessToken: AT,
      refreshToken: RT,
      expiresAt: 123,
      tokenType: 'bearer',
    }
    expect(normalizeTokenResponse(set, 999)).toEqual({
      ...set,
      tokenType: 'Bearer',
    })
  })

  it.each([
    ['a JSON string', 'not json', /not a JSON object/],
    ['null', null, /not a JSON object/],
    ['undefined', undefined, /not a JSON object/],
    ['an array', [{ access_token: AT }], /not a JSON object/],
    ['a number', 42, /not a JSON object/],
    ['{}', {}, /access_token/],
    ['a numeric access_token', { access_token: 42 }, /access_token/],
    ['an empty access_token', { access_token: '' }, /access_token/],
    ['a null access_token', { access_token: null }, /access_token/],
    [
      'a numeric refresh_token',
      { access_token: AT, refresh_token: 7 },
      /refresh_token/,
    ],
    [
      'an empty refresh_token',
      { access_token: AT, refresh_token: '' },
      /refresh_token/,
    ],
    [
      'a negative expires_in',
      { access_token: AT, expires_in: -1 },
      /expires_in/,
    ],
    ['a zero expires_in', { access_token: AT, expires_in: 0 }, /expires_in/],
    ['a NaN expires_in', { access_token: AT, expires_in: NaN }, /expires_in/],
    [
      'an infinite expires_in',
      { access_token: AT, expires_in: Infinity },
      /expires_in/,
    ],
    [
      'a non-canonical numeric string',
      { access_token: AT, expires_in: '0360' },
      /expires_in/,
    ],
    [
      'a non-numeric string',
      { access_token: AT, expires_in: '1h' },
      /expires_in/,
    ],
    [
      'a boolean expires_in',
      { access_token: AT, expires_in: true },
      /expires_in/,
    ],
    ['a mac token_type', { access_token: AT, token_type: 'mac' }, /token_type/],
    [
      'a DPoP token_type',
      { access_token: AT, token_type: 'DPoP' },
      /token_type/,
    ],
    ['a numeric token_type', { access_token: AT, token_type: 1 }, /token_type/],
    ['an empty accessToken', { accessToken: '' }, /accessToken/],
    ['a string expiresAt', { accessToken: AT, expiresAt: '5' }, /expiresAt/],
  ])('rejects %s', (_, body, why) => {
    let error: unknown
    try {
      normalizeTokenResponse(body)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InvalidTokenResponseError)
    expect((error as Error).message).toMatch(why)
    expectNoSecrets(error, [AT, RT], true)
  })

  it('never puts a token value in the message', () => {
    for (const body of [
      { access_token: AT, token_type: RT },
      { access_token: AT, expires_in: RT },
      { access_token: AT, refresh_token: 0, x: RT },
      { accessToken: AT, expiresAt: RT },
    ]) {
      expect(() => normalizeTokenResponse(body)).toThrow(
        InvalidTokenResponseError,
      )
      try {
        normalizeTokenResponse(body)
      } catch (e) {
        expectNoSecrets(e, [AT, RT], true)
      }
    }
  })
})
