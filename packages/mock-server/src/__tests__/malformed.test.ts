// Requests fetch() cannot even send, over raw sockets: each gets a 4xx, never a dropped
// connection, and the server keeps serving.
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { BODY_LIMIT_BYTES } from '../responses.ts'
import { login, serverPerTest } from './helpers.ts'

/** Sends `chunks`, then resolves with what came back once the server closes or `until` matches. */
function exchange(
  url: string,
  chunks: string[],
  { end = true, until }: { end?: boolean; until?: RegExp } = {},
): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let received = ''
    socket.on('data', (data) => {
      received += data.toString('latin1')
      if (until?.test(received)) {
        socket.destroy()
        resolve(received)
      }
    })
    socket.on('close', () => resolve(received))
    socket.on('error', (error) =>
      // A reset after the answer arrived is fine; before it, it is the bug.
      received === '' ? reject(error) : resolve(received),
    )
    for (const chunk of chunks) socket.write(chunk)
    if (end) socket.end()
  })
}

const statusLine = (response: string) => response.split('\r\n')[0]

const head = (method: string, target: string, host = '127.0.0.1') =>
  `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`

describe('malformed requests to the node:http server', () => {
  const start = serverPerTest('node')

  it('TRACE → 405 with Allow', async () => {
    const { url } = await start()
    const response = await exchange(url, [head('TRACE', '/token')])
    expect(statusLine(response)).toBe('HTTP/1.1 405 Method Not Allowed')
    expect(response).toMatch(/\r\nallow: POST, OPTIONS\r\n/i)
    expect(response).toContain('{"detail":"Method Not Allowed"}')
    // The server still serves.
    expect((await login(url)).token_type).toBe('bearer')
  })

  it('CONNECT → 405', async () => {
    const { url } = await start()
    const response = await exchange(url, [
      head('CONNECT', '127.0.0.1:443', '127.0.0.1:443'),
    ])
    expect(statusLine(response)).toBe('HTTP/1.1 405 Method Not Allowed')
    expect(response).toMatch(/\r\nallow: [A-Z, ]+\r\n/i)
    expect((await login(url)).token_type).toBe('bearer')
  })

  it.each(['exa mple', '[::1', 'a:b:c', 'x/y', 'user@x', 'x:99999x'])(
    'a malformed Host (%s) → 400',
    async (host) => {
      const { server, url } = await start()
      const response = await exchange(url, [head('GET', '/me', host)])
      expect(statusLine(response)).toBe('HTTP/1.1 400 Bad Request')
      expect(response).toContain('"detail":"malformed Host header"')
      expect(server.stats.unauthorized).toBe(0)
    },
  )

  it('a well-formed Host of any name is served (the base URL is the server’s own)', async () => {
    const { url } = await start()
    for (const host of ['api.test', 'api.test:8080', '[::1]:1', '10.0.0.1']) {
      const response = await exchange(url, [head('GET', '/me', host)])
      expect(statusLine(response)).toBe('HTTP/1.1 401 Unauthorized')
    }
  })

  it('an oversized chunked body → 413 as soon as it passes the limit, before it ends', async () => {
    const { server, url } = await start()
    const piece = 'x'.repeat(16 * 1024)
    const chunks = [
      'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    ]
    for (let sent = 0; sent <= BODY_LIMIT_BYTES; sent += piece.length)
      chunks.push(`${piece.length.toString(16)}\r\n${piece}\r\n`)
    // No final `0` chunk: the body never ends, the answer must come anyway.
    const response = await exchange(url, chunks, {
      end: false,
      until: /\r\n\r\n\{.*\}/s,
    })
    expect(statusLine(response)).toBe('HTTP/1.1 413 Payload Too Large')
    expect(response).toMatch(/\r\nconnection: close\r\n/i)
    expect(server.stats.failedLogins + server.stats.logins).toBe(0)
    expect((await login(url)).token_type).toBe('bearer')
  })
})
