// A retried request sends the identical body, whatever its kind; a one-shot stream fails clearly.
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { authHandlers, createAuthServer } from '@tokenflight/mock-server'
import { UnreplayableBodyError } from '../shared'
import { API, bearer, signIn, streamOf } from './harness'

const auth = createAuthServer()
/** Each request /upload received: the token it carried and its body as the server read it. */
let received: Array<{
  token: string | null
  type: string | null
  body: unknown
}> = []

const msw = setupServer(
  ...authHandlers(auth, { baseUrl: API }),
  http.post(`${API}/upload`, async ({ request }) => {
    const type = request.headers.get('content-type')
    // Parsed as a server would: multipart boundaries differ between two sends of one FormData.
    const body = type?.startsWith('multipart/form-data')
      ? await Promise.all(
          [...(await request.formData())].map(async ([name, value]) => [
            name,
            typeof value === 'string' ? value : await value.text(),
          ]),
        )
      : [...new Uint8Array(await request.arrayBuffer())]
    // The media type only: a multipart boundary differs between two sends of one FormData.
    received.push({
      token: bearer(request),
      type: type?.split(';')[0] ?? null,
      body,
    })
    // The mock server decides whether the token is valid, as for its own routes.
    const verdict = await auth.handle(
      new Request(`${API}/me`, { headers: request.headers }),
    )
    return verdict.ok
      ? HttpResponse.json({ ok: true })
      : new HttpResponse(null, { status: verdict.status })
  }),
)

beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  msw.resetHandlers()
  auth.reset()
  received = []
})
afterAll(() => msw.close())

const bytes = (text: string) => [...new TextEncoder().encode(text)]

function form() {
  const data = new FormData()
  data.set('title', 'write the docs')
  data.set('file', new File(['file body'], 'notes.txt', { type: 'text/plain' }))
  return data
}

describe('a retried request sends the same body', () => {
  it.each([
    ['a string', () => '{"title":"x"}', bytes('{"title":"x"}'), 'text/plain'],
    [
      'URLSearchParams',
      () => new URLSearchParams({ a: '1', b: 'two words' }),
      bytes('a=1&b=two+words'),
      'application/x-www-form-urlencoded',
    ],
    [
      'FormData with a file',
      form,
      [
        ['title', 'write the docs'],
        ['file', 'file body'],
      ],
      'multipart/form-data',
    ],
    [
      'a Blob',
      () => new Blob(['blob body'], { type: 'text/plain' }),
      bytes('blob body'),
      'text/plain',
    ],
    [
      'an ArrayBuffer',
      () => new Uint8Array([0, 1, 2, 255]).buffer,
      [0, 1, 2, 255],
      null,
    ],
    ['a Uint8Array', () => new Uint8Array([9, 8, 7]), [9, 8, 7], null],
  ])('as init.body: %s', async (_, make, expected, type) => {
    const { get, session } = await signIn()
    const old = session.getSnapshot().tokens?.accessToken
    auth.expireAccessTokens()

    const response = await get('/upload', { method: 'POST', body: make() })

    expect(response.status).toBe(200)
    const fresh = session.getSnapshot().tokens?.accessToken
    expect(received.map((r) => r.token)).toEqual([old, fresh])
    expect(received.map((r) => r.body)).toEqual([expected, expected])
    expect(received[1]?.type).toBe(received[0]?.type)
    expect(received[0]?.type).toBe(type)
    expect(auth.stats.refreshes).toBe(1)
  })

  it.each([
    ['a string body', () => '{"title":"x"}', bytes('{"title":"x"}')],
    [
      'a FormData body',
      form,
      [
        ['title', 'write the docs'],
        ['file', 'file body'],
      ],
    ],
    // A Request clones its stream (tee) before the first send, so even this one replays.
    ['a stream body', () => streamOf('streamed'), bytes('streamed')],
  ])('as a Request with %s', async (_, make, expected) => {
    const { api, session } = await signIn()
    auth.expireAccessTokens()
    const request = new Request(`${API}/upload`, {
      method: 'POST',
      body: make(),
      headers: { 'X-Trace': '1' },
      duplex: 'half',
    } as RequestInit)

    const response = await api(request)

    expect(response.status).toBe(200)
    expect(received.map((r) => r.body)).toEqual([expected, expected])
    expect(received.map((r) => r.token)).toEqual([
      expect.any(String),
      session.getSnapshot().tokens?.accessToken,
    ])
    expect(received[0]?.token).not.toBe(received[1]?.token)
  })

  it('as a Request whose body init.body replaces', async () => {
    const { api } = await signIn()
    auth.expireAccessTokens()
    const request = new Request(`${API}/upload`, {
      method: 'POST',
      body: 'from the Request',
    })

    const response = await api(request, { body: 'from init' })

    expect(response.status).toBe(200)
    expect(received.map((r) => r.body)).toEqual([
      bytes('from init'),
      bytes('from init'),
    ])
  })
})

describe('a body that cannot be sent again', () => {
  it('fails with UnreplayableBodyError after the refresh, never with an empty resend', async () => {
    const { get, session } = await signIn()
    const old = session.getSnapshot().tokens?.accessToken
    auth.expireAccessTokens()

    const error: unknown = await get('/upload', {
      method: 'POST',
      body: streamOf('only once'),
      duplex: 'half',
    } as RequestInit).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(UnreplayableBodyError)
    expect((error as Error).message).toMatch(/stream/)
    // Sent once, whole; never a second time, empty or not.
    expect(received).toEqual([
      { token: old, type: null, body: bytes('only once') },
    ])
    // The session was refreshed: sending the request again with a new stream works.
    expect(auth.stats.refreshes).toBe(1)
    const again = await get('/upload', {
      method: 'POST',
      body: streamOf('only once'),
      duplex: 'half',
    } as RequestInit)
    expect(again.status).toBe(200)
  })

  it('treats an async iterable body (Node) as one-shot too', async () => {
    const { get } = await signIn()
    auth.expireAccessTokens()
    async function* chunks() {
      yield new TextEncoder().encode('iterated')
    }

    const error: unknown = await get('/upload', {
      method: 'POST',
      body: chunks(),
      duplex: 'half',
    } as unknown as RequestInit).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(UnreplayableBodyError)
    expect(received.map((r) => r.body)).toEqual([bytes('iterated')])
  })

  it('sends a stream once and fine when no retry is needed', async () => {
    const { get } = await signIn()

    const response = await get('/upload', {
      method: 'POST',
      body: streamOf('happy'),
      duplex: 'half',
    } as RequestInit)

    expect(response.status).toBe(200)
    expect(received.map((r) => r.body)).toEqual([bytes('happy')])
  })
})
