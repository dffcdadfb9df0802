import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { BODY_LIMIT_BYTES, tooLarge } from './responses.ts'
import type { AuthServer } from './types.ts'

export type StartAuthServerOptions = {
  /** Default 0: a free port (read it from `url`). */
  port?: number
  /** Default `'127.0.0.1'`. */
  host?: string
  /**
   * Browser origins allowed by CORS. Default: any `http://localhost:*` and
   * `http://127.0.0.1:*` origin. `'*'` allows every origin.
   */
  corsOrigins?: Array<string | RegExp> | '*'
  /**
   * Called once per request when it ends. Carries no token: the path is without its
   * query string (a token may travel there) and cut to 200 printable characters.
   */
  onRequest?: (entry: RequestLogEntry) => void
}

export type RequestLogEntry = {
  method: string
  path: string
  /** `null`: no answer (a network-error fault, or the client went away first). */
  status: number | null
  /** From the first byte of the request to the last byte of the answer. */
  ms: number
}

export type RunningAuthServer = {
  /** `http://host:port`, no trailing slash. */
  url: string
  /** Stops listening and closes every connection, idle keep-alive ones included. Idempotent. */
  close(): Promise<void>
}

const LOCAL_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/

const ALLOW_METHODS = 'GET, POST, PATCH, DELETE, OPTIONS'
const ALLOW_HEADERS = 'Authorization, Content-Type'

/** Serves `server` over real sockets with `node:http`. */
export async function startAuthServer(
  server: AuthServer,
  options: StartAuthServerOptions = {},
): Promise<RunningAuthServer> {
  const host = options.host ?? '127.0.0.1'
  const allowed = originMatcher(options.corsOrigins)
  const { onRequest } = options
  const http = createServer((req, res) => {
    if (onRequest) logWhenDone(req, res, onRequest)
    void serve({ server, req, res, allowed }).catch(() => {
      // The socket is gone or the response could not be written: nothing left to tell.
      res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject)
      resolve()
    })
  })
  const { port } = http.address() as AddressInfo
  const shownHost = host.includes(':') ? `[${host}]` : host
  let closing: Promise<void> | undefined
  return {
    url: `http://${shownHost}:${port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        http.close((error) => (error ? reject(error) : resolve()))
        // Idle keep-alive sockets (and held requests) would keep close() waiting.
        http.closeAllConnections()
      })),
  }
}

function logWhenDone(
  req: IncomingMessage,
  res: ServerResponse,
  onRequest: (entry: RequestLogEntry) => void,
): void {
  const started = performance.now()
  res.once('close', () => {
    const path = (req.url ?? '/')
      .split('?')[0]!
      .replace(/[^\x21-\x7e]/g, '?')
      .slice(0, 200)
    onRequest({
      method: (req.method ?? '?').slice(0, 16),
      path,
      status: res.writableFinished ? res.statusCode : null,
      ms: performance.now() - started,
    })
  })
}

function originMatcher(
  origins: StartAuthServerOptions['corsOrigins'],
): (origin: string) => boolean {
  if (origins === '*') return () => true
  if (origins === undefined) return (origin) => LOCAL_ORIGIN.test(origin)
  return (origin) =>
    origins.some((allowed) =>
      typeof allowed === 'string' ? allowed === origin : allowed.test(origin),
    )
}

async function serve({
  server,
  req,
  res,
  allowed,
}: {
  server: AuthServer
  req: IncomingMessage
  res: ServerResponse
  allowed: (origin: string) => boolean
}): Promise<void> {
  const origin = req.headers.origin
  const cors: Record<string, string> = {}
  if (origin !== undefined && allowed(origin)) {
    cors['Access-Control-Allow-Origin'] = origin
    cors['Access-Control-Expose-Headers'] = 'WWW-Authenticate, Location'
  }
  if (origin !== undefined) cors.Vary = 'Origin'

  // CORS preflight: answered here, never reaches the auth logic or its faults.
  if (
    req.method === 'OPTIONS' &&
    req.headers['access-control-request-method'] !== undefined
  ) {
    if (cors['Access-Control-Allow-Origin'] !== undefined) {
      cors['Access-Control-Allow-Methods'] = ALLOW_METHODS
      cors['Access-Control-Allow-Headers'] = ALLOW_HEADERS
      cors['Access-Control-Max-Age'] = '600'
    }
    res.writeHead(204, cors).end()
    return
  }

  const body = await readBody(req)
  if (body === undefined) {
    await write(res, tooLarge(), { ...cors, Connection: 'close' })
    return
  }

  const aborter = new AbortController()
  res.once('close', () => {
    if (!res.writableFinished) aborter.abort()
  })
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value])
      headers.append(name, item)
  }
  const method = req.method ?? 'GET'
  const request = new Request(
    new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`),
    {
      method,
      headers,
      signal: aborter.signal,
      ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
    },
  )
  const response = await server.handle(request)
  if (response.type === 'error') {
    // A network error for the client: no status line, the connection just dies.
    req.socket.destroy()
    return
  }
  await write(res, response, cors)
}

/** The request body, or `undefined` when it exceeds the limit. */
function readBody(
  req: IncomingMessage,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? '0') > BODY_LIMIT_BYTES) {
      req.resume()
      return resolve(undefined)
    }
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength
      if (size > BODY_LIMIT_BYTES) over = true
      else chunks.push(chunk)
    })
    req.on('end', () =>
      resolve(over ? undefined : new Uint8Array(Buffer.concat(chunks))),
    )
    req.on('error', reject)
  })
}

async function write(
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
