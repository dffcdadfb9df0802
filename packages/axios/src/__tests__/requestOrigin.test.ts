import axios from 'axios'
import type { AxiosRequestConfig } from 'axios'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TokenflightError, createSession } from '@tokenflight/core'
import { attachSession } from '../attachSession'
import { requestOrigin } from '../requestOrigin'
import { isBrowser } from './harness'

describe('requestOrigin resolves like axios', () => {
  it.each([
    [
      'an absolute URL wins over baseURL',
      {
        baseURL: 'https://api.example.com',
        url: 'https://other.example.com/x',
      },
      'https://other.example.com',
    ],
    [
      'a relative URL joins baseURL',
      { baseURL: 'https://api.example.com/v1/', url: '/me' },
      'https://api.example.com',
    ],
    [
      'a default port is dropped',
      { url: 'https://api.example.com:443/me' },
      'https://api.example.com',
    ],
    [
      'another port is another origin',
      { url: 'https://api.example.com:8443/me' },
      'https://api.example.com:8443',
    ],
    [
      'host names are case-insensitive',
      { url: 'HTTPS://API.Example.COM/me' },
      'https://api.example.com',
    ],
    [
      'userinfo does not change the origin',
      { url: 'https://api.example.com@evil.example/x' },
      'https://evil.example',
    ],
    [
      'a backslash ends the host',
      { url: 'https://api.example.com\\@evil.example/x' },
      'https://api.example.com',
    ],
    [
      'baseURL alone',
      { baseURL: 'https://api.example.com' },
      'https://api.example.com',
    ],
    [
      'a protocol-relative URL ignores baseURL',
      { baseURL: 'https://api.example.com', url: '//cdn.example.com/x' },
      isBrowser ? 'http://cdn.example.com' : undefined,
    ],
    [
      'allowAbsoluteUrls: false joins even an absolute URL',
      {
        baseURL: 'https://api.example.com',
        url: 'https://other.example.com/x',
        allowAbsoluteUrls: false,
      },
      'https://api.example.com',
    ],
    ['an opaque origin is no origin', { url: 'data:text/plain,hi' }, undefined],
    [
      'a relative URL without baseURL',
      { url: '/me' },
      isBrowser ? location.origin : undefined,
    ],
  ] as const)('%s', (_, config, origin) => {
    expect(requestOrigin(config)).toBe(origin)
  })
})

describe('requestOrigin under a baseURL', () => {
  const bases = [
    'https://api.example.com',
    'https://api.example.com/',
    'https://api.example.com/v1',
    'https://api.example.com:8443/v1/',
    'http://127.0.0.1:4010',
    'https://api.example.com\\',
  ]
  const urls = [
    '',
    '/me',
    'me?x=1',
    '@evil.example/x',
    '.evil.example/x',
    ':8443/x',
    '\\\\evil.example/x',
    '%2F%2Fevil.example',
    '//evil.example/x',
    'https://evil.example/x',
  ]

  // Where axios sends it: its own URL building, then the WHATWG parser; no page, no relative URLs.
  const axiosOrigin = (config: AxiosRequestConfig) => {
    try {
      return new URL(axios.getUri(config), globalThis.location?.href).origin
    } catch {
      return undefined
    }
  }

  it('agrees with where axios sends the request, for every url, cached or not', () => {
    // Twice over more baseURLs than the cache holds, so hits, misses and clears all happen.
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < 80; i++)
        for (const base of bases)
          for (const url of urls)
            for (const allowAbsoluteUrls of [true, false]) {
              const baseURL = i
                ? `${base}${base.endsWith('/') ? '' : '/'}p${i}`
                : base
              const config = { baseURL, url, allowAbsoluteUrls }
              expect(requestOrigin(config), JSON.stringify(config)).toBe(
                axiosOrigin(config),
              )
            }
  })

  it('gives no origin when baseURL has no host of its own, even where axios would find one', () => {
    // 'https:' + '/' + 'evil.example' parses as https://evil.example: no token goes there.
    expect(
      requestOrigin({ baseURL: 'https:', url: 'evil.example/x' }),
    ).toBeUndefined()
    expect(
      requestOrigin({ baseURL: 'https://', url: 'evil.example/x' }),
    ).toBeUndefined()
  })
})

describe('attachSession: where tokens may go', () => {
  const session = createSession({
    refresh: () => Promise.reject(new Error('not in these tests')),
  })
  const seen = new Map<string, string | null>()
  const msw = setupServer(
    http.all('*', ({ request }) => {
      const { headers } = request
      seen.set(
        new URL(request.url).origin,
        headers.get('authorization') ?? headers.get('x-access-token'),
      )
      return HttpResponse.json({})
    }),
  )
  beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
  afterEach(() => seen.clear())
  afterAll(() => msw.close())

  it('sends the token to string and RegExp matches of allowedOrigins only', async () => {
    await session.setTokens({ access_token: 'abc', token_type: 'bearer' })
    const api = axios.create({ baseURL: 'https://api.example.com/v1' })
    attachSession(api, session, {
      allowedOrigins: [
        'https://API.example.com/ignored/path',
        /^https:\/\/[a-z]+\.partner\.example$/,
      ],
    })

    await api.get('/me')
    await api.get('https://eu.partner.example/x')
    await api.get('https://eu.partner.example.evil.test/x')
    await api.get('/x', { baseURL: 'http://api.example.com' })
    await api.get('https://api.example.com:8443/x')

    expect(Object.fromEntries(seen)).toEqual({
      'https://api.example.com': 'Bearer abc',
      'https://eu.partner.example': 'Bearer abc',
      'https://eu.partner.example.evil.test': null,
      'http://api.example.com': null,
      'https://api.example.com:8443': null,
    })
  })

  it('defaults to the origin of instance.defaults.baseURL', async () => {
    await session.setTokens({ access_token: 'abc' })
    const api = axios.create({ baseURL: 'https://api.example.com/v1' })
    attachSession(api, session, { headerName: 'X-Access-Token' })

    await api.get('/me', { headers: { 'X-Access-Token': 'mine' } })
    await api.get('https://other.example.com/x', {
      headers: { 'X-Access-Token': 'mine' },
    })

    expect(Object.fromEntries(seen)).toEqual({
      'https://api.example.com': 'Bearer abc',
      // A header the caller set for a foreign origin is theirs: left as it is.
      'https://other.example.com': 'mine',
    })
  })

  it('sees the URL that an interceptor added after it rewrote', async () => {
    await session.setTokens({ access_token: 'abc' })
    const api = axios.create({ baseURL: 'https://api.example.com' })
    attachSession(api, session)
    // Registered later, so axios runs it first (reverse order by default).
    api.interceptors.request.use((config) => {
      if (config.url === '/elsewhere')
        config.baseURL = 'https://other.example.com'
      return config
    })

    await api.get('/me')
    await api.get('/elsewhere')

    expect(Object.fromEntries(seen)).toEqual({
      'https://api.example.com': 'Bearer abc',
      'https://other.example.com': null,
    })
  })

  it.skipIf(isBrowser)(
    'throws at attach time outside a browser with neither baseURL nor allowedOrigins',
    () => {
      expect(() => attachSession(axios.create(), session)).toThrow(
        TokenflightError,
      )
      expect(() =>
        attachSession(axios.create({ baseURL: '/api' }), session),
      ).toThrow(TokenflightError)
      expect(() =>
        attachSession(axios.create(), session, {
          allowedOrigins: ['not a url'],
        }),
      ).toThrow(TokenflightError)
    },
  )

  it.skipIf(isBrowser)(
    'each setup mistake gets its own message, naming the value and the fix',
    () => {
      expect(() => attachSession(axios.create(), session)).toThrow(
        /^attachSession: no baseURL, no allowedOrigins, no page origin: pass allowedOrigins$/,
      )
      expect(() =>
        attachSession(axios.create({ baseURL: '/api' }), session),
      ).toThrow(
        /^attachSession: baseURL "\/api" is relative.*make it absolute or pass allowedOrigins$/,
      )
      expect(() =>
        attachSession(axios.create(), session, {
          allowedOrigins: ['api.example.com'],
        }),
      ).toThrow(
        /^attachSession: allowedOrigins "api.example.com" is no absolute URL \(https:\/\/host\)$/,
      )
      expect(() =>
        attachSession(
          axios.create({ baseURL: 'https://api.example.com' }),
          undefined as unknown as typeof session,
        ),
      ).toThrow(
        /^attachSession: session is undefined, not createSession\(\)'s$/,
      )
    },
  )

  it('refuses a second session on one instance until the first is detached; one session serves several instances', () => {
    const api = axios.create({ baseURL: 'https://api.example.com' })
    const detach = attachSession(api, session)
    expect(() => attachSession(api, session)).toThrow(
      /has a session; call its detach function first/,
    )
    detach()
    attachSession(api, session)()
    const other = axios.create({ baseURL: 'https://other.example.com' })
    const detachOther = attachSession(other, session)
    const third = attachSession(
      axios.create({ baseURL: 'https://api.example.com' }),
      session,
    )
    detachOther()
    third()
  })

  it.runIf(isBrowser)(
    'in a browser, allows the page origin for relative URLs by default',
    async () => {
      await session.setTokens({ access_token: 'abc' })
      const api = axios.create()
      attachSession(api, session)

      await api.get('/me')
      await api.get('https://other.example.com/x')

      expect(Object.fromEntries(seen)).toEqual({
        [location.origin]: 'Bearer abc',
        'https://other.example.com': null,
      })
    },
  )

  it('checks the origin again just before the send: a later interceptor that moves the request does not take the token along', async () => {
    await session.setTokens({ access_token: 'abc' })
    const api = axios.create({ baseURL: 'https://api.example.com' })
    // Registered first, so it runs after attachSession's interceptor.
    api.interceptors.request.use((config) => {
      if (config.url === '/moved') config.baseURL = 'https://moved.example.com'
      return config
    })
    attachSession(api, session)
    await api.get('/moved')
    await api.get('/stays')
    expect(Object.fromEntries(seen)).toEqual({
      'https://moved.example.com': null,
      'https://api.example.com': 'Bearer abc',
    })
  })

  it.runIf(isBrowser)(
    'in a browser, resolves relative URLs against <base href>, as XHR does',
    async () => {
      await session.setTokens({ access_token: 'abc' })
      const base = document.createElement('base')
      base.href = 'https://elsewhere.example/'
      document.head.append(base)
      try {
        const api = axios.create()
        attachSession(api, session)
        await api.get('/me')
      } finally {
        base.remove()
      }
      // A browser's XHR sends it to the <base>'s origin (MSW's interceptor resolves it
      // against location instead): no token either way.
      expect([...seen.values()]).toEqual([null])
    },
  )
})
