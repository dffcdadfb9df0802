import { request as httpRequest } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { createAuthServer } from '../authServer.ts'
import {
  startAuthServer,
  type RunningAuthServer,
  type StartAuthServerOptions,
} from '../startAuthServer.ts'
import { login, me } from './helpers.ts'

describe('startAuthServer (real sockets)', () => {
  let running: RunningAuthServer | undefined
  afterEach(async () => {
    await running?.close()
    running = undefined
  })

  async function start(options: StartAuthServerOptions = {}): Promise<string> {
    running = await startAuthServer(createAuthServer(), options)
    return running.url
  }

  function preflight(url: string, origin: string): Promise<Response> {
    return fetch(`${url}/refresh`, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    })
  }

  it('listens on 127.0.0.1 and a free port by default; url has no trailing slash', async () => {
    const url = await start()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(Number(new URL(url).port)).toBeGreaterThan(0)
  })

  it('answers a CORS preflight from the demo origin', async () => {
    const url = await start()
    const response = await preflight(url, 'http://127.0.0.1:5173')
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe(
      'http://127.0.0.1:5173',
    )
    expect(response.headers.get('access-control-allow-headers')).toMatch(
      /\bAuthorization\b/,
    )
    expect(response.headers.get('access-control-allow-headers')).toMatch(
      /\bContent-Type\b/,
    )
    expect(response.headers.get('access-control-allow-methods')).toBe(
      'GET, POST, PATCH, DELETE, OPTIONS',
    )
    expect(response.headers.get('vary')).toBe('Origin')
    expect(
      (await preflight(url, 'http://localhost:3000')).headers.get(
        'access-control-allow-origin',
      ),
    ).toBe('http://localhost:3000')
  })

  it('gives other origins no CORS headers', async () => {
    const url = await start()
    for (const origin of [
      'https://evil.test',
      'http://localhost.evil.test',
      'https://127.0.0.1:5173',
    ]) {
      const response = await preflight(url, origin)
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
      expect(response.headers.get('access-control-allow-headers')).toBeNull()
    }
  })

  it('adds CORS headers to actual responses, exposing WWW-Authenticate', async () => {
    const url = await start()
    const response = await fetch(`${url}/me`, {
      headers: { Origin: 'http://127.0.0.1:5173' },
    })
    expect(response.status).toBe(401)
    expect(response.headers.get('access-control-allow-origin')).toBe(
      'http://127.0.0.1:5173',
    )
    expect(response.headers.get('access-control-expose-headers')).toContain(
      'WWW-Authenticate',
    )
  })

  it('corsOrigins: an explicit list (strings and RegExps) or *', async () => {
    const url = await start({
      corsOrigins: ['https://app.test', /^https:\/\/.*\.preview\.test$/],
    })
    expect(
      (await preflight(url, 'https://app.test')).headers.get(
        'access-control-allow-origin',
      ),
    ).toBe('https://app.test')
    expect(
      (await preflight(url, 'https://pr-1.preview.test')).headers.get(
        'access-control-allow-origin',
      ),
    ).toBe('https://pr-1.preview.test')
    expect(
      (await preflight(url, 'http://127.0.0.1:5173')).headers.get(
        'access-control-allow-origin',
      ),
    ).toBeNull()
    await running?.close()
    const any = await start({ corsOrigins: '*' })
    expect(
      (await preflight(any, 'https://anything.test')).headers.get(
        'access-control-allow-origin',
      ),
    ).toBe('https://anything.test')
  })

  it('close() resolves with idle keep-alive connections open', async () => {
    const url = await start()
    const tokens = await login(url)
    await Promise.all([
      me(url, tokens.access_token),
      me(url, tokens.access_token),
    ])
    await running!.close()
    await running!.close() // idempotent
    running = undefined
    await expect(fetch(`${url}/me`)).rejects.toThrow(TypeError)
  })

  it('close() resolves while a request hangs', async () => {
    const server = createAuthServer()
    running = await startAuthServer(server)
    server.inject({ endpoint: 'token', kind: 'hang' })
    const hung = login(running.url)
    await expect.poll(() => server.stats.faults).toBe(1)
    await running.close()
    running = undefined
    await expect(hung).rejects.toThrow(TypeError)
  })

  it('a network-error fault destroys the socket (no status line)', async () => {
    const server = createAuthServer()
    running = await startAuthServer(server)
    server.inject({ endpoint: 'me', kind: 'network-error' })
    const { port } = new URL(running.url)
    const error = await new Promise<Error>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/me' }, () =>
        reject(new Error('got a response')),
      )
      req.on('error', resolve)
      req.end()
    })
    expect(error.message).toMatch(/socket hang up|ECONNRESET/)
  })

  it('rejects when the port is taken', async () => {
    const url = await start()
    await expect(
      startAuthServer(createAuthServer(), { port: Number(new URL(url).port) }),
    ).rejects.toThrow(/EADDRINUSE/)
  })
})
