// What one tab of the test app runs: a session on browserStorage (or webStorage) and an axios
// instance with attachSession, as an app would set them up. The test drives it through
// `window.tab` and reads what happened from it; nothing here decides a test's outcome.
import { attachSession } from '@tokenflight/axios'
import {
  browserStorage,
  createSession,
  oauth2Client,
  webStorage,
} from '@tokenflight/core'
import type { Session, TokenSet, TokenStorage } from '@tokenflight/core'
import axios from 'axios'

export type TabOptions = {
  baseUrl: string
  /** The browserStorage name (database, lock, channel). */
  name: string
  storage?: 'browser' | 'web'
  /** false: the storage's watch is left out (the tab follows the others only through the lock). */
  watch?: boolean
  refreshTimeoutMs?: number
  refreshLeewayMs?: number
  /** holdForLogin's timeoutMs; absent: off. */
  holdForLoginMs?: number
}

export type TabEvent = {
  at: number
  kind: string
  status?: string
  generation?: number
  operation?: string
  error?: string
}

export type Fired = { served: number; failures: string[] }

let session: Session | undefined
let api: ReturnType<typeof axios.create> | undefined
const events: TabEvent[] = []

const current = () => {
  if (!session) throw new Error('tab.start() first')
  return session
}

const describe = (error: unknown): string =>
  error instanceof Error
    ? `${error.name}: ${error.message}${error.cause ? ` <- ${describe(error.cause)}` : ''}`
    : String(error)

const tab = {
  start(options: TabOptions) {
    const shared: TokenStorage =
      options.storage === 'web'
        ? webStorage(localStorage)
        : browserStorage({ name: options.name })
    const { watch: _watch, ...unwatched } = shared
    const storage = options.watch === false ? unwatched : shared
    session = createSession({
      ...oauth2Client({ baseUrl: options.baseUrl }),
      storage,
      refreshTimeoutMs: options.refreshTimeoutMs ?? 10_000,
      refreshLeewayMs: options.refreshLeewayMs ?? 0,
      retry: { attempts: 2, baseDelayMs: 50 },
      ...(options.holdForLoginMs && {
        holdForLogin: { timeoutMs: options.holdForLoginMs },
      }),
    })
    const s = session
    let last = s.getSnapshot()
    events.push({
      at: Date.now(),
      kind: 'status',
      status: last.status,
      generation: last.generation,
    })
    s.subscribe(() => {
      const next = s.getSnapshot()
      if (next.status !== last.status || next.generation !== last.generation)
        events.push({
          at: Date.now(),
          kind: 'status',
          status: next.status,
          generation: next.generation,
        })
      last = next
    })
    for (const kind of [
      'refreshed',
      'expired',
      'loggedOut',
      'refreshFailed',
    ] as const)
      s.on(kind, () => events.push({ at: Date.now(), kind }))
    s.on('storageError', ({ error, operation }) =>
      events.push({
        at: Date.now(),
        kind: 'storageError',
        operation,
        error: describe(error),
      }),
    )
    api = axios.create({ baseURL: options.baseUrl })
    attachSession(api, s)
    return { hasLock: 'lock' in storage, secure: isSecureContext }
  },

  /** Resolves once an async storage has been read (getAccessToken waits for it). */
  ready: async () => {
    await current().getAccessToken()
  },
  status: () => current().getSnapshot().status,
  generation: () => current().getSnapshot().generation,
  heldUntil: () => current().getSnapshot().heldUntil,
  accessToken: () => current().getSnapshot().tokens?.accessToken ?? null,
  expiresAt: () => current().getSnapshot().tokens?.expiresAt ?? null,
  events: () => events,

  login: async () => {
    await current().login({ username: 'demo', password: 'demo-password' })
  },
  logout: () => current().logout(),

  /** `n` GET /todos at the same moment; how many were served and why the others failed. */
  async fire(n: number): Promise<Fired> {
    if (!api) throw new Error('tab.start() first')
    const http = api
    const results = await Promise.allSettled(
      Array.from({ length: n }, () => http.get('/todos')),
    )
    return {
      served: results.filter((r) => r.status === 'fulfilled').length,
      failures: results.flatMap((r) =>
        r.status === 'rejected' ? [describe(r.reason)] : [],
      ),
    }
  },
}

/** The storage on its own, for the tests of its contract (no session). */
const storages = new Map<string, TokenStorage>()
const releases = new Map<string, () => void>()
const notices = new Map<string, number>()
const messages: unknown[] = []
const storageOf = (name: string) => {
  let s = storages.get(name)
  if (!s) storages.set(name, (s = browserStorage({ name })))
  return s
}
const settle = async (work: () => unknown) => {
  try {
    return { ok: true as const, value: await work() }
  } catch (e) {
    return { ok: false as const, error: describe(e), name: (e as Error).name }
  }
}
const core = {
  hasLock: (name: string) => 'lock' in storageOf(name),
  get: (name: string) => settle(() => storageOf(name).get()),
  set: (name: string, tokens: TokenSet | null, expected?: TokenSet | null) =>
    settle(() =>
      storageOf(name).set(
        tokens,
        expected === undefined ? undefined : { expected },
      ),
    ),
  /** Takes the lock and keeps it until release(name); resolves once it holds it. */
  hold: (name: string) =>
    new Promise<void>((held) => {
      void storageOf(name).lock!(
        () =>
          new Promise<void>((release) => {
            releases.set(name, release)
            held()
          }),
        { signal: new AbortController().signal },
      )
    }),
  release: (name: string) => releases.get(name)?.(),
  /** Asks for the lock and gives up after `ms`: 'ran' or the rejection's name. */
  tryLock: (name: string, ms: number) =>
    settle(() =>
      storageOf(name).lock!(async () => 'ran', {
        signal: AbortSignal.timeout(ms),
      }),
    ),
  watch: (name: string) => {
    notices.set(name, 0)
    storageOf(name).watch!(() =>
      notices.set(name, (notices.get(name) ?? 0) + 1),
    )
  },
  notices: (name: string) => notices.get(name) ?? 0,
  /** Every message on the channel, as another listener sees it. */
  listen: (name: string) => {
    new BroadcastChannel(name).onmessage = (e) => messages.push(e.data)
  },
  messages: () => messages,
  post: (name: string, message: unknown) => {
    const channel = new BroadcastChannel(name)
    channel.postMessage(message)
    channel.close()
  },
}

declare global {
  interface Window {
    tab: typeof tab
    core: typeof core
  }
}
window.tab = tab
window.core = core
