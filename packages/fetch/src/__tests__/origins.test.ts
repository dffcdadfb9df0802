// Where tokens may go: WHATWG origins, RegExps against the origin string, the page in a browser.
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TokenflightError, createSession } from '@tokenflight/core'
import { createFetch } from '../createFetch'
import { kyAuth } from '../kyAuth'
import { openapiFetchAuth } from '../openapiFetchAuth'
import { isBrowser } from './harness'

const session = createSession({
  refresh: () => Promise.reject(new Error('not in these tests')),
})
const seen = new Map<string, string | null>()
const msw = setupServer(
  http.all('*', ({ request }) => {
    seen.set(new URL(request.url).origin, request.headers.get('authorization'))
    return HttpResponse.json({})
  }),
)
beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'error' })
  await session.setTokens({ access_token: 'abc', token_type: 'bearer' })
})
afterEach(() => seen.clear())
afterAll(() => msw.close())

describe('createFetch: where tokens may go', () => {
  it('sends the token to string and RegExp matches of allowedOrigins only', async () => {
    const api = createFetch(session, {
      allowedOrigins: [
        'https://API.example.com/ignored/path',
        /^https:\/\/[a-z]+\.partner\.example$/,
      ],
    })

    await api('https://api.example.com:443/me')
    await api(new URL('https://eu.partner.example/x'))
    await api(new Request('https://eu.partner.example.evil.test/x'))
    await api('http://api.example.com/x')
    await api('https://api.example.com:8443/x')
    // A backslash ends the host (fetch itself refuses URLs with userinfo).
    await api('https://api.example.com\\@other.example/x')

    expect(Object.fromEntries(seen)).toEqual({
      'https://api.example.com': 'Bearer abc',
      'https://eu.partner.example': 'Bearer abc',
      'https://eu.partner.example.evil.test': null,
      'http://api.example.com': null,
      'https://api.example.com:8443': null,
    })
  })

  it('leaves a header the caller set for a foreign origin as it is', async () => {
    const api = createFetch(session, {
      allowedOrigins: ['https://api.example.com'],
    })

    await api('https://other.example.com/x', {
      headers: { Authorization: 'mine' },
    })

    expect(seen.get('https://other.example.com')).toBe('mine')
  })

  it.skipIf(isBrowser)(
    'throws at creation outside a browser without allowedOrigins, or with one that is no URL',
    () => {
      for (const create of [
        () => createFetch(session),
        () => kyAuth(session),
        () => openapiFetchAuth(session),
        () => createFetch(session, { allowedOrigins: ['not a url'] }),
        () => openapiFetchAuth(session, { allowedOrigins: [/ok/, 'nope'] }),
      ])
        expect(create).toThrow(TokenflightError)
      expect(() => createFetch(session)).toThrow(/allowedOrigins/)
      expect(() =>
        createFetch(session, { allowedOrigins: ['api.example.com'] }),
      ).toThrow(/"api.example.com" is no absolute URL/)
    },
  )

  it('a session that is none fails at creation, for every binding', () => {
    const none = undefined as unknown as typeof session
    const allowedOrigins = ['https://api.example.com']
    for (const create of [
      () => createFetch(none, { allowedOrigins }),
      () => kyAuth(none, { allowedOrigins }),
      () => openapiFetchAuth(none, { allowedOrigins }),
    ])
      expect(create).toThrow(/session is undefined, not createSession\(\)'s/)
  })

  it.runIf(isBrowser)(
    'in a browser, allows the page origin (and relative URLs) by default',
    async () => {
      const api = createFetch(session)

      await api('/me')
      await api(`${location.origin}/x`)
      await api('https://other.example.com/x')

      expect(Object.fromEntries(seen)).toEqual({
        [location.origin]: 'Bearer abc',
        'https://other.example.com': null,
      })
    },
  )

  it.runIf(isBrowser)(
    'in a browser, allowedOrigins replaces the page origin',
    async () => {
      const api = createFetch(session, {
        allowedOrigins: ['https://api.example.com'],
      })

      await api('/me')
      await api('https://api.example.com/me')

      expect(Object.fromEntries(seen)).toEqual({
        [location.origin]: null,
        'https://api.example.com': 'Bearer abc',
      })
    },
  )
})
