import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** Debian's interpreter, where apt-get puts python3-fastapi; TOKENFLIGHT_PYTHON overrides it. */
export const PYTHON = process.env.TOKENFLIGHT_PYTHON ?? '/usr/bin/python3'
const DIR = fileURLToPath(new URL('..', import.meta.url))
const STARTUP_MS = 20_000

/** Why the FastAPI example cannot run on this machine, or null when it can. */
export function fastapiMissing(): string | null {
  const probe = spawnSync(
    PYTHON,
    ['-c', 'import fastapi, uvicorn, jose, multipart'],
    { encoding: 'utf8', timeout: 20_000 },
  )
  if (probe.status === 0) return null
  return `${PYTHON} cannot import fastapi, uvicorn, jose and multipart (apt-get install python3-fastapi python3-uvicorn python3-jose python3-multipart)`
}

export type ServerStats = {
  logins: number
  failedLogins: number
  refreshes: number
  failedRefreshes: number
  rotations: number
  reuseDetections: number
  revokedFamilies: number
  logouts: number
  unauthorized: number
  served: number
  faults: number
  /** Requests per route ('/refresh', '/todos', '/todos/{id}', …), admin routes excepted. */
  calls: Record<string, number>
}

export type FastapiServer = {
  /** http://127.0.0.1:<port>, no trailing slash, without the contract's prefix. */
  url: string
  pid: number
  stats(): Promise<ServerStats>
  reset(): Promise<void>
  expireAccessTokens(): Promise<void>
  revokeSessions(): Promise<void>
  /** Moves the server's clock forward (token expiry is checked against it). */
  advanceClock(seconds: number): Promise<void>
  /** Requests to `route` wait at the server until `release(route)`. */
  hold(route: string): Promise<void>
  /** Resolves once `count` requests wait at the hold on `route`. */
  held(route: string, count: number): Promise<void>
  release(route: string): Promise<void>
  /** The next `count` requests to `route` answer `status` (and Retry-After). */
  fail(
    route: string,
    fault: { status: number; retryAfter?: number; count?: number },
  ): Promise<void>
  /** Stops uvicorn and waits for the process to exit. */
  stop(): Promise<void>
}

/**
 * Starts examples/fastapi under uvicorn on a free port of 127.0.0.1, with its admin hooks,
 * and resolves once it listens. `args` are main.py's flags (`--contract tutorial-query`, …).
 * The server also exits when this process dies: its stdin is a pipe from here.
 */
export async function startFastapi(
  args: string[] = [],
): Promise<FastapiServer> {
  const child = spawn(
    PYTHON,
    ['main.py', '--port', '0', '--admin', '--exit-with-stdin', ...args],
    { cwd: DIR, stdio: ['pipe', 'pipe', 'pipe'] },
  )
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => resolve()),
  )
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
  })

  const stop = async () => {
    process.off('exit', killOnExit)
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end()
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }
  }

  let url: string
  try {
    url = await new Promise<string>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(
        () =>
          reject(
            new Error(`examples/fastapi did not start in ${STARTUP_MS} ms`),
          ),
        STARTUP_MS,
      )
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk
        const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out)
        if (match) {
          clearTimeout(timer)
          resolve(match[1]!)
        }
      })
      child.once('error', reject)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`examples/fastapi exited with ${code}:\n${stderr}`))
      })
    })
  } catch (error) {
    await stop()
    throw error
  }

  const call = async (path: string, body?: Record<string, unknown>) => {
    const response = await fetch(`${url}/__admin${path}`, {
      method: body ? 'POST' : 'GET',
      ...(body && {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    })
    if (!response.ok)
      throw new Error(`/__admin${path} answered ${response.status}`)
    return response
  }

  const post = async (path: string, body: Record<string, unknown> = {}) => {
    await call(path, body)
  }

  return {
    url,
    pid: child.pid!,
    stats: async () => (await (await call('/stats')).json()) as ServerStats,
    reset: () => post('/reset'),
    expireAccessTokens: () => post('/expire-access-tokens'),
    revokeSessions: () => post('/revoke-sessions'),
    advanceClock: (seconds) => post('/clock', { advance: seconds }),
    hold: (route) => post('/hold', { path: route }),
    held: async (route, count) => {
      await call(`/held?path=${encodeURIComponent(route)}&count=${count}`)
    },
    release: (route) => post('/release', { path: route }),
    fail: (route, { status, retryAfter, count = 1 }) =>
      post('/faults', {
        path: route,
        status,
        count,
        ...(retryAfter !== undefined && { retry_after: retryAfter }),
      }),
    stop,
  }
}
