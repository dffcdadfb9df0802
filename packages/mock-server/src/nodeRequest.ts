import type { IncomingMessage, ServerResponse } from 'node:http'
import { BODY_LIMIT_BYTES, jsonResponse } from './responses.ts'
import { matchRoute } from './routes.ts'

// From node:http to fetch's Request and back, for startAuthServer. Whatever a client
// sends gets an answer: a request fetch cannot represent is a 4xx, never a dropped socket.

export const ALLOW_METHODS = 'GET, POST, PATCH, DELETE, OPTIONS'

/** Methods the Fetch standard forbids in a `Request` (and no route serves). */
export const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK'])

/** 405 with the route's `Allow` (or every method this server uses, off any route). */
export function methodNotAllowed(target: string): Response {
  const path = target.startsWith('/') ? target.split('?')[0]! : ''
  const spec = matchRoute(path)?.spec
  const allow = spec ? [...spec.methods, 'OPTIONS'].join(', ') : ALLOW_METHODS
  return jsonResponse(405, { detail: 'Method Not Allowed' }, { Allow: allow })
}

// RFC 9110 §7.2 / RFC 3986: a reg-name, IPv4 or bracketed IPv6 literal, optional port.
const HOST =
  /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::(\d{1,5}))?$/

/** RFC 9112 §3.2: an invalid Host gets a 400. No Host (HTTP/1.0) is fine. */
export function hostIsValid(host: string | undefined): boolean {
  if (host === undefined) return true
  const match = HOST.exec(host)
  return match !== null && (match[1] === undefined || Number(match[1]) < 65_536)
}

/**
 * The request body, or `undefined` as soon as it passes the limit: the caller answers
 * 413 at once (with `Connection: close`) instead of waiting for a body that may never end.
 */
export function readBody(
  req: IncomingMessage,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? '0') > BODY_LIMIT_BYTES) {
      req.resume()
      return resolve(undefined)
    }
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength
      if (size <= BODY_LIMIT_BYTES) return void chunks.push(chunk)
      req.off('data', onData)
      req.resume() // the rest is discarded
      resolve(undefined)
    }
    req.on('data', onData)
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))))
    req.on('error', reject)
  })
}

/**
 * `req` as a fetch Request. The URL is built on the server's own `base`, never on the
 * Host header (only the path matters for routing).
 */
export function toRequest(
  req: IncomingMessage,
  base: string,
  body: Uint8Array<ArrayBuffer>,
  signal: AbortSignal,
): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value])
      headers.append(name, item)
  }
  const method = req.method ?? 'GET'
  const target = req.url ?? '/'
  // An absolute-form target (`GET http://x/me`) is routed by its path as well.
  const path = /^[a-z][a-z0-9+.-]*:\/\//i.test(target)
    ? new URL(target).pathname
    : target
  // Appended, not resolved: `//x` stays a path and never becomes a host.
  return new Request(`${base}${path.startsWith('/') ? '' : '/'}${path}`, {
    method,
    headers,
    signal,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  })
}

export async function write(
  res: ServerResponse,
  response: Response,
  extra: Record<string, string>,
): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer())
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    headers[name] = value
  })
  res.writeHead(response.status, { ...headers, ...extra })
  res.end(body)
}
