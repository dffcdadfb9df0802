// `pnpm demo:node`: three bursts of 100 requests, each sent with an access token that has just
// expired, against the mock auth server. Every burst gets 401s and shares one refresh.
// The server expires the tokens on demand (`expireAccessTokens`, or its admin route): waiting
// for short-lived tokens to run out races the clock, and on a busy machine the refreshed token
// could expire again before the retries land.
import { parseArgs } from 'node:util'
import axios from 'axios'
import { attachSession } from '@tokenflight/axios'
import {
  createSession,
  isTokenflightError,
  oauth2Client,
} from '@tokenflight/core'
import type { Session } from '@tokenflight/core'
import { createAuthServer, DEFAULT_USER } from '@tokenflight/mock-server'
import type { AuthStats } from '@tokenflight/mock-server'
import { startAuthServer } from '@tokenflight/mock-server/node'

const CYCLES = 3
const BURST = 100
/** Long enough that no token runs out by itself during the demo, however busy the machine. */
const ACCESS_TTL_SEC = 900
/** Below this lifetime a refreshed token could run out before its retries land. */
const MIN_TTL_MS = 10_000

const usage = `Usage: pnpm demo:node [--api URL] [--user NAME] [--password SECRET]

  --api URL        use a running mock server (pnpm demo:server) instead of starting one in-process
  --user NAME      default ${DEFAULT_USER.username}
  --password PASS  default ${DEFAULT_USER.password}`

/** An expected failure: printed as one line, exit code 1, no stack trace. */
class DemoError extends Error {
  override name = 'DemoError'
}

const tty = process.stdout.isTTY === true
const out = (line = '') => process.stdout.write(`${line}\n`)
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[22m` : s)
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[22m` : s)
const green = (s: string) => (tty ? `\x1b[32m${s}\x1b[39m` : s)
const plural = (n: number, one: string, many = `${one}s`) =>
  `${n} ${n === 1 ? one : many}`

function parseOptions() {
  const args = process.argv.slice(2).filter((arg) => arg !== '--')
  try {
    const { values } = parseArgs({
      args,
      options: {
        api: { type: 'string' },
        user: { type: 'string', default: DEFAULT_USER.username },
        password: { type: 'string', default: DEFAULT_USER.password },
        help: { type: 'boolean', short: 'h' },
      },
    })
    if (values.api !== undefined && !/^https?:\/\/[^/]/.test(values.api)) {
      throw new DemoError(`--api must be an http(s) URL, got "${values.api}"`)
    }
    return values
  } catch (error) {
    if (error instanceof DemoError) throw error
    throw new DemoError(
      `${error instanceof Error ? error.message : String(error)}\n${usage}`,
    )
  }
}

/** The root cause's code or message, e.g. ECONNREFUSED, for one readable line. */
function rootCause(error: unknown): string {
  let current = error
  while (current instanceof Error && current.cause !== undefined)
    current = current.cause
  const code = (current as { code?: unknown } | null)?.code
  const message = current instanceof Error ? current.message : String(current)
  if (code === 'ECONNREFUSED')
    return 'connection refused: is `pnpm demo:server` running?'
  if (code === 'ENOTFOUND') return 'host not found'
  // Node's fetch refuses the WHATWG "bad ports" (1, 7, 9, …) without connecting.
  if (message === 'bad port') return 'fetch refuses to connect to that port'
  return typeof code === 'string' ? code : message
}

type Api = {
  url: string
  /** The server's counters: read in-process, or from /__admin/stats. */
  stats(): Promise<Readonly<AuthStats>>
  expireAccessTokens(): Promise<void>
  close(): Promise<void>
}

async function startInProcess(): Promise<Api> {
  out(bold('tokenflight · Node demo'))
  const server = createAuthServer({ accessTokenTtlSec: ACCESS_TTL_SEC })
  const running = await startAuthServer(server, { port: 0 })
  out(
    `› started the mock auth server on ${running.url} ${dim('(in-process, free port)')}`,
  )
  out(
    `  it issues access tokens that live ${ACCESS_TTL_SEC / 60} min; the demo expires them on the server`,
  )
  return {
    url: running.url,
    stats: async () => server.stats,
    expireAccessTokens: async () => server.expireAccessTokens(),
    close: () => running.close(),
  }
}

async function connect(url: string): Promise<Api> {
  const base = url.replace(/\/+$/, '')
  const admin = async (path: string, method: 'GET' | 'POST') => {
    let response: Response
    try {
      response = await fetch(`${base}/__admin/${path}`, { method })
    } catch (error) {
      throw new DemoError(
        `cannot reach the API at ${base} (${rootCause(error)})`,
      )
    }
    if (!response.ok) {
      throw new DemoError(
        `${base}/__admin/${path} answered ${response.status}: is it a tokenflight mock server (pnpm demo:server)?`,
      )
    }
    return response
  }
  const stats = async () =>
    (await (await admin('stats', 'GET')).json()) as AuthStats
  await stats()
  out(bold('tokenflight · Node demo'))
  out(`› using the mock auth server at ${base}`)
  return {
    url: base,
    stats,
    expireAccessTokens: async () => {
      await admin('expire-access-tokens', 'POST')
    },
    close: async () => {},
  }
}

async function signIn(
  session: Session,
  user: string,
  password: string,
  url: string,
) {
  try {
    await session.login({ username: user, password })
  } catch (error) {
    const { status, data } = error as {
      status?: unknown
      data?: { error?: unknown }
    }
    if (status === 400 || status === 401) {
      const code = typeof data?.error === 'string' ? ` ${data.error}` : ''
      throw new DemoError(
        `sign-in refused for "${user}": wrong username or password (${status}${code})`,
      )
    }
    if (isTokenflightError(error) && status === undefined) {
      throw new DemoError(
        `cannot reach the API at ${url} (${rootCause(error)})`,
      )
    }
    throw new DemoError(
      `sign-in failed: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}

function progress(cycle: number, done: number, served: number) {
  if (!tty) return
  const width = 30
  const filled = Math.round((done / BURST) * width)
  process.stdout.write(
    `\r  cycle ${cycle}/${CYCLES}  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${BURST} answered, ${served} served`,
  )
}

async function main(): Promise<number> {
  const options = parseOptions()
  if (options.help) {
    out(usage)
    return 0
  }
  const api =
    options.api === undefined
      ? await startInProcess()
      : await connect(options.api)
  try {
    // No early refresh: each burst goes out with the expired token, gets 401s, and the
    // 401s share one refresh. (The default 30 s leeway would refresh before sending instead.)
    const session = createSession({
      ...oauth2Client({ baseUrl: api.url }),
      refreshLeewayMs: 0,
    })
    const client = axios.create({ baseURL: api.url })
    attachSession(client, session)
    let refreshes = 0
    session.on('refreshed', () => refreshes++)

    await signIn(session, options.user, options.password, api.url)
    const expiresAt = session.getSnapshot().tokens?.expiresAt
    const ttlMs = expiresAt === undefined ? Infinity : expiresAt - Date.now()
    out(
      `› signed in as ${options.user} with oauth2Client; the access token would live ${ttlMs === Infinity ? 'until revoked' : `${Math.round(ttlMs / 1000)} s`}`,
    )
    out(
      `  refreshLeewayMs is 0: the client never refreshes early, so every burst below hits 401s`,
    )
    if (ttlMs < MIN_TTL_MS) {
      out(
        `  warning: this server's tokens live under ${MIN_TTL_MS / 1000} s; a refreshed token may expire before its retries land (start it with --access-ttl 900)`,
      )
    }
    out()

    const before = await api.stats()
    const started = Date.now()
    let served = 0
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      await api.expireAccessTokens()
      out(`  cycle ${cycle}/${CYCLES}  access token expired on the server`)
      const statsBefore = await api.stats()
      const refreshesBefore = refreshes
      const t0 = Date.now()
      let done = 0
      let cycleServed = 0
      progress(cycle, 0, 0)
      const results = await Promise.allSettled(
        Array.from({ length: BURST }, () =>
          client.get('/todos').then(
            () => {
              cycleServed++
              progress(cycle, ++done, cycleServed)
            },
            (error: unknown) => {
              progress(cycle, ++done, cycleServed)
              throw error
            },
          ),
        ),
      )
      const failed = results.find((r) => r.status === 'rejected')
      const statsAfter = await api.stats()
      served += cycleServed
      if (tty) process.stdout.write('\r\x1b[2K')
      out(
        `  cycle ${cycle}/${CYCLES}  ${BURST} requests at once → ${cycleServed} served, ${statsAfter.unauthorized - statsBefore.unauthorized} × 401, ${plural(refreshes - refreshesBefore, 'refresh', 'refreshes')} ${dim(`(${Date.now() - t0} ms)`)}`,
      )
      if (failed) {
        const reason = (failed as PromiseRejectedResult).reason
        out(
          `  ${BURST - cycleServed} failed, e.g.: ${reason instanceof Error ? reason.message : String(reason)}`,
        )
      }
    }

    const after = await api.stats()
    const total = CYCLES * BURST
    const serverRefreshes = after.refreshes - before.refreshes
    out()
    out(bold('Summary'))
    out(`  requests              ${total}`)
    out(`  served                ${served}`)
    out(
      `  refreshes             ${refreshes} ${dim(`(server: ${serverRefreshes} /refresh grants)`)}`,
    )
    out(`  401s seen by server   ${after.unauthorized - before.unauthorized}`)
    out(
      `  time                  ${((Date.now() - started) / 1000).toFixed(1)} s`,
    )
    if (served !== total || refreshes !== CYCLES) {
      out(`✗ expected ${total} served with one refresh per cycle`)
      return 1
    }
    out(
      green(
        `✓ ${total} requests, ${CYCLES} expiries, ${CYCLES} refreshes: one per burst of 401s`,
      ),
    )
    await session.logout()
    return 0
  } finally {
    await api.close()
  }
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    if (tty) process.stdout.write('\r\x1b[2K')
    const message =
      error instanceof DemoError
        ? error.message
        : `unexpected failure: ${error instanceof Error ? error.message : String(error)}`
    process.stderr.write(`tokenflight demo: ${message}\n`)
    process.exitCode = 1
  },
)
