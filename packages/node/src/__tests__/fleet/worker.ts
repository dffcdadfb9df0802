// One process of a fleet (see fleet.ts): createSession + oauth2Client + @tokenflight/axios
// against the parent's mock auth server, with the shared storage the parent chose. It does
// what the parent asks over IPC and reports counts, never a token (except the seed tokens
// the parent hands a memory-storage worker, which is test plumbing).
import { attachSession } from '@tokenflight/axios'
import { createSession, oauth2Client } from '@tokenflight/core'
import type {
  StorageLockContext,
  TokenSet,
  TokenStorage,
} from '@tokenflight/core'
import { pathToFileURL } from 'node:url'
import axios, { isAxiosError } from 'axios'
import type { FromParent, ToParent, WorkerConfig } from './protocol'

const send = (message: ToParent) => process.send?.(message)

/** `RefreshError<StorageError<RedisStorageError:unavailable>>`: what a failure was, down its causes. */
export function describeError(error: unknown): string {
  const parts: string[] = []
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    const x = e as {
      name?: string
      reason?: unknown
      response?: { status?: number }
      cause?: unknown
    }
    let part = x.name ?? typeof e
    if (isAxiosError(e) && x.response?.status) part += `:${x.response.status}`
    if (typeof x.reason === 'string') part += `:${x.reason}`
    parts.push(part)
    e = x.cause
  }
  return parts.join('<') + '>'.repeat(Math.max(0, parts.length - 1))
}

process.on('unhandledRejection', (error) =>
  send({ type: 'crash', error: describeError(error) }),
)
process.on('uncaughtException', (error) =>
  send({ type: 'crash', error: describeError(error) }),
)
// The parent went away: so does this process.
process.on('disconnect', () => process.exit(0))

let skewMs = 0
const now = () => Date.now() + skewMs
const stats = {
  gets: 0,
  networkRefreshes: 0,
}

/** Counts reads and times every lock: how long it waited, how long it was held. */
function instrument(storage: TokenStorage): TokenStorage {
  const lock = storage.lock?.bind(storage)
  return {
    get: () => {
      stats.gets++
      return storage.get()
    },
    set: (tokens, options) => {
      if (options) lastWriteAt = epoch()
      return storage.set(tokens, options)
    },
    ...(storage.watch && { watch: storage.watch.bind(storage) }),
    ...(lock && {
      lock<T>(work: () => Promise<T>, ctx: StorageLockContext): Promise<T> {
        const asked = performance.now()
        let entered = 0
        const before = stats.networkRefreshes
        let networkMs = 0
        return lock(async () => {
          entered = performance.now()
          const result = await work()
          networkMs = lastNetworkMs
          return result
        }, ctx).finally(() => {
          if (!entered) return
          const released = performance.now()
          send({
            type: 'lock',
            writtenAt: stats.networkRefreshes > before ? lastWriteAt : 0,
            waitMs: entered - asked,
            holdMs: released - entered,
            networkMs: stats.networkRefreshes > before ? networkMs : 0,
            refreshed: stats.networkRefreshes > before,
          })
        })
      },
    }),
  }
}

let lastNetworkMs = 0
// When the refresh's compare-and-set write started, on the machine's clock.
let lastWriteAt = 0
const epoch = () => performance.timeOrigin + performance.now()

async function start(config: WorkerConfig) {
  skewMs = config.skewMs ?? 0
  const client = oauth2Client({
    baseUrl: config.api,
    // Tells the server which worker sent a refresh (the parent kills the one that holds it).
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: {
          ...(init?.headers as object),
          'x-worker': String(config.id),
        },
      }),
  })
  const refresh: typeof client.refresh = async (ctx) => {
    stats.networkRefreshes++
    const started = performance.now()
    try {
      return await client.refresh(ctx)
    } finally {
      lastNetworkMs = performance.now() - started
    }
  }
  let storage: TokenStorage | undefined
  if (config.storageModule) {
    type StorageModule = {
      createStorage(options: unknown): Promise<TokenStorage>
    }
    const loaded = (await import(
      pathToFileURL(config.storageModule).href
    )) as Partial<StorageModule> & { default?: StorageModule }
    // A CommonJS bundle's exports may arrive as the default export only.
    const module = (
      loaded.createStorage ? loaded : loaded.default
    ) as StorageModule
    storage = instrument(await module.createStorage(config.storage))
  }
  const session = createSession({
    ...client,
    refresh,
    ...(storage && { storage }),
    refreshTimeoutMs: config.refreshTimeoutMs,
    ...(config.refreshLeewayMs !== undefined && {
      refreshLeewayMs: config.refreshLeewayMs,
    }),
    ...(config.retry && { retry: config.retry }),
    now,
  })
  for (const event of [
    'refreshed',
    'adopted',
    'expired',
    'refreshFailed',
    'loggedOut',
  ] as const)
    session.on(event, (e) =>
      send({
        type: 'event',
        event,
        ...('error' in e && { error: describeError(e.error) }),
        ...('signedIn' in e && { signedIn: e.signedIn }),
        time: epoch(),
      }),
    )
  session.on('storageError', (e) =>
    send({
      type: 'event',
      event: 'storageError',
      operation: e.operation,
      error: describeError(e.error),
    }),
  )
  if (config.tokens) await session.setTokens(config.tokens as TokenSet)
  // Hydrated from the shared storage (an async read): wait for it before saying ready.
  await session.getAccessToken().catch(() => null)

  const api = axios.create({ baseURL: config.api })
  attachSession(api, session)

  const onMessage = async (message: FromParent) => {
    switch (message.type) {
      case 'burst': {
        const gets = stats.gets
        const started = performance.now()
        const results = await Promise.allSettled(
          Array.from({ length: message.n }, () => api.get('/todos')),
        )
        send({
          type: 'burst',
          seq: message.seq,
          served: results.filter((r) => r.status === 'fulfilled').length,
          errors: results.flatMap((r) =>
            r.status === 'rejected' ? [describeError(r.reason)] : [],
          ),
          gets: stats.gets - gets,
          ms: performance.now() - started,
        })
        break
      }
      case 'logout':
        await session.logout()
        send({ type: 'done', seq: message.seq })
        break
      case 'skew':
        skewMs = message.ms
        send({ type: 'done', seq: message.seq })
        break
      case 'snapshot': {
        const { status, generation } = session.getSnapshot()
        send({
          type: 'snapshot',
          seq: message.seq,
          status,
          generation,
          networkRefreshes: stats.networkRefreshes,
          gets: stats.gets,
        })
        break
      }
    }
  }
  process.on('message', (message: FromParent) => void onMessage(message))
  send({ type: 'ready', status: session.getSnapshot().status })
}

process.once('message', (message: FromParent) => {
  if (message.type === 'init')
    start(message.config).catch((error: unknown) =>
      send({ type: 'crash', error: describeError(error) }),
    )
})
