import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import {
  ALLOW_METHODS,
  FORBIDDEN_METHODS,
  hostIsValid,
  methodNotAllowed,
  readBody,
  toRequest,
  write,
} from './nodeRequest.ts'
import { jsonResponse, tooLarge } from './responses.ts'
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

const ALLOW_HEADERS = 'Authorization, Content-Type'

/** Serves `server` over real sockets with `node:http`. */
export async function startAuthServer(
  server: AuthServer,
  options: StartAuthServerOptions = {},
): Promise<RunningAuthServer> {
  const host = options.host ?? '127.0.0.1'
  const allowed = originMatcher(options.corsOrigins)
  const { onRequest } = options
  // Known once listening; requests cannot arrive before.
  let base = ''
  const http = createServer((req, res) => {
    if (onRequest) logWhenDone(req, res, onRequest)
    void serve({ server, req, res, allowed, base }).catch(() => {
      // The socket is gone or the response could not be written: nothing left to tell.
      res.destroy()
    })
  })
  // node:http hands CONNECT to this event, and closes the socket when nobody listens.
  http.on('connect', (req: IncomingMessage, socket: Duplex) => {
    const started = performance.now()
    void answerRaw(socket, methodNotAllowed(req.url ?? '')).then(() =>
      onRequest?.({
        method: 'CONNECT',
        path: '-',
        status: 405,
        ms: performance.now() - started,
      }),
    )
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
  base = `http://${shownHost}:${port}`
  let closing: Promise<void> | undefined
  return {
    url: base,
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
  base,
}: {
  server: AuthServer
  req: IncomingMessage
  res: ServerResponse
  allowed: (origin: string) => boolean
  base: string
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
  if (!hostIsValid(req.headers.host))
    return write(res, badRequest('malformed Host header'), {
      ...cors,
      Connection: 'close',
    })
  if (FORBIDDEN_METHODS.has(req.method ?? ''))
    return write(res, methodNotAllowed(req.url ?? '/'), cors)

  const body = await readBody(req)
  if (body === undefined)
    return write(res, tooLarge(), { ...cors, Connection: 'close' })

  const aborter = new AbortController()
  res.once('close', () => {
    if (!res.writableFinished) aborter.abort()
  })
  let request: Request
  try {
    request = toRequest(req, base, body, aborter.signal)
  } catch {
    return write(res, badRequest('malformed request'), cors)
  }
  const response = await server.handle(request)
  if (response.type === 'error') {
    // A network error for the client: no status line, the connection just dies.
    req.socket.destroy()
    return
  }
  await write(res, response, cors)
}

const badRequest = (detail: string) => jsonResponse(400, { detail })

/** An answer written straight to a socket node:http gave up (CONNECT); then it closes. */
async function answerRaw(socket: Duplex, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer())
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status]}`]
  response.headers.forEach((value, name) => lines.push(`${name}: ${value}`))
  lines.push(`content-length: ${body.byteLength}`, 'connection: close')
  socket.end(
    Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]),
  )
}
