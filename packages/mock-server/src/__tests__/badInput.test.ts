import { describe, expect, it } from 'vitest'
import { BODY_LIMIT_BYTES } from '../responses.ts'
import type { AuthServer } from '../types.ts'
import {
  form,
  json,
  login,
  me,
  modes,
  refresh,
  serverPerTest,
  type TokenBody,
} from './helpers.ts'

const big = 'x'.repeat(65 * 1024)

describe.each(modes)('bad input over %s', (mode) => {
  const serveOne = serverPerTest(mode)
  /** A server and a logged-in user. */
  async function start() {
    const { server, url } = await serveOne()
    return { server, url, tokens: await login(url) }
  }

  /** Bad requests must change nothing: same stats, the refresh token still works. */
  async function expectNothingChanged(
    server: AuthServer,
    url: string,
    tokens: TokenBody,
    before: object,
  ): Promise<void> {
    expect(server.stats).toEqual(before)
    expect((await refresh(url, tokens.refresh_token)).status).toBe(200)
  }

  async function expectError(
    response: Response,
    status: number,
    error: string,
    description?: RegExp,
  ): Promise<void> {
    expect(response.status).toBe(status)
    const body = (await response.json()) as {
      error: string
      error_description: string
    }
    expect(body.error).toBe(error)
    expect(body.error_description).toEqual(expect.any(String))
    if (description) expect(body.error_description).toMatch(description)
  }

  it('missing fields → 400 invalid_request', async () => {
    const { server, url, tokens } = await start()
    const before = server.stats
    await expectError(
      await fetch(`${url}/token`, form({ username: 'demo' })),
      400,
      'invalid_request',
      /password/,
    )
    await expectError(
      await fetch(`${url}/token`, json('POST', { password: 'demo-password' })),
      400,
      'invalid_request',
      /username/,
    )
    await expectError(
      await fetch(
        `${url}/token`,
        json('POST', { username: 42, password: 'x' }),
      ),
      400,
      'invalid_request',
      /username/,
    )
    await expectError(
      await fetch(`${url}/refresh`, json('POST', {})),
      400,
      'invalid_request',
      /refresh_token/,
    )
    await expectError(
      await fetch(`${url}/refresh`, { method: 'POST' }),
      400,
      'invalid_request',
      /refresh_token/,
    )
    await expectNothingChanged(server, url, tokens, before)
  })

  it('wrong content type → 415', async () => {
    const { server, url, tokens } = await start()
    const before = server.stats
    const response = await fetch(`${url}/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify({ refresh_token: tokens.refresh_token }),
    })
    await expectError(
      response,
      415,
      'invalid_request',
      /content type "text\/plain"/,
    )
    const todo = await fetch(`${url}/todos`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Bearer ${tokens.access_token}`,
      },
      body: 'title=x',
    })
    expect(todo.status).toBe(415)
    await expectNothingChanged(server, url, tokens, {
      ...before,
      served: 0,
      unauthorized: 0,
    })
  })

  it('invalid JSON and non-object JSON → 400 invalid_request', async () => {
    const { server, url, tokens } = await start()
    const before = server.stats
    const headers = { 'Content-Type': 'application/json' }
    await expectError(
      await fetch(`${url}/refresh`, {
        method: 'POST',
        headers,
        body: '{"refresh_token":',
      }),
      400,
      'invalid_request',
      /not valid JSON/,
    )
    await expectError(
      await fetch(`${url}/token`, {
        method: 'POST',
        headers,
        body: '["demo"]',
      }),
      400,
      'invalid_request',
      /JSON object/,
    )
    await expectNothingChanged(server, url, tokens, before)
  })

  it(`a body over ${BODY_LIMIT_BYTES} bytes → 413`, async () => {
    const { server, url, tokens } = await start()
    const before = server.stats
    await expectError(
      await fetch(`${url}/token`, form({ username: 'demo', password: big })),
      413,
      'invalid_request',
      /65536 bytes/,
    )
    await expectError(
      await fetch(
        `${url}/refresh`,
        json('POST', { refresh_token: tokens.refresh_token, pad: big }),
      ),
      413,
      'invalid_request',
    )
    expect(
      (
        await fetch(
          `${url}/todos`,
          json('POST', { title: big }, tokens.access_token),
        )
      ).status,
    ).toBe(413)
    await expectNothingChanged(server, url, tokens, { ...before, served: 0 })
  })

  it('a streamed (chunked) body over the limit → 413', async () => {
    const { server, url, tokens } = await start()
    const before = server.stats
    const chunk = new TextEncoder().encode('a'.repeat(16 * 1024))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ === 5) controller.close()
        else controller.enqueue(chunk)
      },
    })
    const response = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(response.status).toBe(413)
    await expectNothingChanged(server, url, tokens, before)
  })

  it('unknown grant types → 400 unsupported_grant_type', async () => {
    const { server, url, tokens } = await start()
    const before = server.stats
    await expectError(
      await fetch(
        `${url}/refresh`,
        form({ grant_type: 'password', refresh_token: tokens.refresh_token }),
      ),
      400,
      'unsupported_grant_type',
    )
    await expectError(
      await fetch(
        `${url}/token`,
        form({
          grant_type: 'client_credentials',
          username: 'demo',
          password: 'demo-password',
        }),
      ),
      400,
      'unsupported_grant_type',
    )
    await expectNothingChanged(server, url, tokens, before)
  })

  it('client credentials → 401 invalid_client (only public clients exist)', async () => {
    const { server, url, tokens } = await start()
    const before = server.stats
    const basic = await fetch(`${url}/refresh`, {
      ...json('POST', { refresh_token: tokens.refresh_token }),
      headers: {
        'Content-Type': 'application/json',
        Authorization: 'Basic Y2xpZW50OnNlY3JldA==',
      },
    })
    await expectError(basic, 401, 'invalid_client')
    expect(basic.headers.get('www-authenticate')).toBe(
      'Basic realm="tokenflight-mock"',
    )
    await expectError(
      await fetch(
        `${url}/token`,
        form({
          username: 'demo',
          password: 'demo-password',
          client_id: 'app',
          client_secret: 's',
        }),
      ),
      401,
      'invalid_client',
    )
    await expectNothingChanged(server, url, tokens, before)
  })

  it('a repeated form parameter → 400 invalid_request (RFC 6749 §3.1)', async () => {
    const { url } = await start()
    const response = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'username=demo&password=demo-password&password=other',
    })
    await expectError(response, 400, 'invalid_request', /repeated/)
  })

  it('unknown routes → 404; wrong methods → 405 with Allow', async () => {
    const { url, tokens } = await start()
    if (mode === 'node') expect((await fetch(`${url}/nope`)).status).toBe(404)
    const get = await fetch(`${url}/token`)
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST, OPTIONS')
    const put = await fetch(`${url}/me`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    })
    expect(put.status).toBe(405)
    expect((await me(url, tokens.access_token)).status).toBe(200)
  })
})
