// A fleet of real processes (child_process.fork) sharing one refresh token through a
// storage, against a mock auth server in this process (strict rotation, reuse interval 0).
// Used by the multi-process tests of @tokenflight/node and @tokenflight/redis and by the bench.
import { fork, type ChildProcess } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { normalizeTokenResponse, oauth2Client } from '@tokenflight/core'
import type { TokenSet } from '@tokenflight/core'
import { DEFAULT_USER, createAuthServer } from '@tokenflight/mock-server'
import type { AuthServer, AuthServerOptions } from '@tokenflight/mock-server'
import { startAuthServer } from '@tokenflight/mock-server/node'
import { bundle, type Bundle } from './bundle'
import type {
  BurstResult,
  FromParent,
  LockTiming,
  Snapshot,
  ToParent,
  WorkerConfig,
  WorkerEvent,
} from './protocol'

export type { BurstResult, LockTiming, Snapshot, WorkerEvent }

/** Where a fleet keeps its tokens: a module with `createStorage(options)` and `seed(options, tokens)`. */
export type FleetStorage = {
  module: string
  options: unknown
}

export type FleetOptions = {
  size: number
  /** None: each process keeps its own copy in memory (today's behaviour without a shared storage). */
  storage?: FleetStorage
  server?: AuthServerOptions
  refreshTimeoutMs?: number
  refreshLeewayMs?: number
  retry?: { attempts: number; baseDelayMs: number }
  /** How long every worker may take to start. Default 60 s (tsx on a busy machine). */
  readyTimeoutMs?: number
}

export type FleetWorker = {
  id: number
  child: ChildProcess
  events: WorkerEvent[]
  locks: LockTiming[]
  crashes: string[]
  alive: boolean
}

export type Fleet = {
  server: AuthServer
  url: string
  workers: FleetWorker[]
  /** Workers still running. */
  alive(): FleetWorker[]
  /** `n` concurrent GET /todos in each of `workers` (default: every live one), at once. */
  burst(n: number, workers?: FleetWorker[]): Promise<BurstResult[]>
  logout(worker: FleetWorker): Promise<void>
  skew(ms: number): Promise<void>
  snapshots(workers?: FleetWorker[]): Promise<Snapshot[]>
  /** Resolves with the worker whose POST /refresh reaches the server next. */
  nextRefresh(): Promise<FleetWorker>
  kill(worker: FleetWorker, signal?: NodeJS.Signals): Promise<void>
  close(): Promise<void>
}

type Pending = { resolve: (m: ToParent) => void; reject: (e: Error) => void }

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const server = createAuthServer(options.server)
  const arrivals: Array<(worker: FleetWorker) => void> = []
  // Sees every request before the auth server does: who sent each refresh.
  const observed = Object.create(server) as AuthServer
  observed.handle = (request, handleOptions) => {
    if (new URL(request.url).pathname === '/refresh') {
      const id = Number(request.headers.get('x-worker'))
      const worker = workers[id]
      if (worker) arrivals.splice(0).forEach((resolve) => resolve(worker))
    }
    return server.handle(request, handleOptions)
  }
  const http = await startAuthServer(observed)
  const workers: FleetWorker[] = []
  const pending = new Map<number, Pending>()
  let seq = 0

  let scripts: Bundle | undefined
  const close = async () => {
    await Promise.all(workers.map((w) => kill(w)))
    await http.close()
    await scripts?.remove()
  }

  const kill = async (
    worker: FleetWorker,
    signal: NodeJS.Signals = 'SIGKILL',
  ) => {
    const { child } = worker
    worker.alive = false
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    await exited
  }

  try {
    const login = await oauth2Client({ baseUrl: http.url }).login(
      DEFAULT_USER,
      {
        signal: AbortSignal.timeout(5_000),
      },
    )
    const tokens: TokenSet = normalizeTokenResponse(login)
    if (options.storage) {
      const module = (await import(
        pathToFileURL(options.storage.module).href
      )) as {
        seed(options: unknown, tokens: TokenSet): Promise<void>
      }
      await module.seed(options.storage.options, tokens)
    }
    scripts = await bundle(options.storage?.module)
    const ready: Array<Promise<void>> = []
    for (let id = 0; id < options.size; id++) {
      const child = fork(scripts.worker, [], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      const worker: FleetWorker = {
        id,
        child,
        events: [],
        locks: [],
        crashes: [],
        alive: true,
      }
      workers.push(worker)
      ready.push(
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`worker ${id} not ready in time`)),
            options.readyTimeoutMs ?? 60_000,
          )
          child.on('message', (message: ToParent) => {
            switch (message.type) {
              case 'ready':
                clearTimeout(timer)
                return resolve()
              case 'crash':
                worker.crashes.push(message.error)
                clearTimeout(timer)
                return reject(
                  new Error(`worker ${id} crashed: ${message.error}`),
                )
              case 'event':
                return void worker.events.push({
                  ...message,
                  at: performance.now(),
                })
              case 'lock':
                return void worker.locks.push(message)
              default:
                if ('seq' in message) pending.get(message.seq)?.resolve(message)
            }
          })
          child.once('exit', (code, signal) => {
            worker.alive = false
            clearTimeout(timer)
            reject(new Error(`worker ${id} exited (${code ?? signal})`))
          })
        }),
      )
      const config: WorkerConfig = {
        id,
        api: http.url,
        refreshTimeoutMs: options.refreshTimeoutMs ?? 10_000,
        ...(options.refreshLeewayMs !== undefined && {
          refreshLeewayMs: options.refreshLeewayMs,
        }),
        ...(options.retry && { retry: options.retry }),
        ...(options.storage && scripts.storage
          ? { storageModule: scripts.storage, storage: options.storage.options }
          : { tokens }),
      }
      child.send({ type: 'init', config } satisfies FromParent)
    }
    await Promise.all(ready)
  } catch (e) {
    await close()
    throw e
  }

  // One request to one worker; rejects if it dies first.
  const ask = <T extends ToParent>(
    worker: FleetWorker,
    message: FromParent & { seq: number },
  ) =>
    new Promise<T>((resolve, reject) => {
      const onExit = () => {
        pending.delete(message.seq)
        reject(new Error(`worker ${worker.id} exited`))
      }
      worker.child.once('exit', onExit)
      pending.set(message.seq, {
        resolve: (m) => {
          worker.child.off('exit', onExit)
          pending.delete(message.seq)
          resolve(m as T)
        },
        reject,
      })
      worker.child.send(message)
    })

  const alive = () => workers.filter((w) => w.alive)
  return {
    server,
    url: http.url,
    workers,
    alive,
    burst: (n, which = alive()) =>
      Promise.all(
        which.map((w) => ask<BurstResult>(w, { type: 'burst', seq: ++seq, n })),
      ),
    logout: async (worker) => {
      await ask(worker, { type: 'logout', seq: ++seq })
    },
    skew: async (ms) => {
      await Promise.all(
        alive().map((w) => ask(w, { type: 'skew', seq: ++seq, ms })),
      )
    },
    snapshots: (which = alive()) =>
      Promise.all(
        which.map((w) => ask<Snapshot>(w, { type: 'snapshot', seq: ++seq })),
      ),
    nextRefresh: () => new Promise((resolve) => arrivals.push(resolve)),
    kill,
    close,
  }
}

/** Totals of a set of burst results. */
export function tally(results: BurstResult[]) {
  return {
    served: results.reduce((sum, r) => sum + r.served, 0),
    errors: results.flatMap((r) => r.errors),
    gets: results.reduce((sum, r) => sum + r.gets, 0),
  }
}
