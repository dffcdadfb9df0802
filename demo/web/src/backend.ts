// Where the demo's API lives: the mock server inside a service worker (default; one server
// state for every tab, kept across reloads), or a real one from `pnpm demo:server` when
// VITE_TOKENFLIGHT_API is set. The demo buttons ("expire", "revoke") act on the server through
// this interface, whichever it is.

import type { AuthStats } from '@tokenflight/mock-server'

export type ServerStats = Readonly<AuthStats>

export type Backend = {
  kind: 'service-worker' | 'server'
  /**
   * Every tab talks to the same server state, which outlives a reload: the tabs can then
   * share the tokens (browserStorage). The service worker's state is shared where IndexedDB
   * and Web Locks exist; elsewhere each page has a server of its own.
   */
  shared: boolean
  /** Base URL of the API, without a trailing slash. */
  baseUrl: string
  /** Lifetime of the access tokens the server issues, when the demo chose it. */
  accessTokenTtlSec: number | null
  expireAccessTokens(): Promise<void>
  revokeSessions(): Promise<void>
  stats(): Promise<ServerStats>
}

// The mock server's DEFAULT_USER. Not imported: a static import of the mock server would put
// MSW in the main chunk even in real-server mode.
export const DEMO_USER = {
  username: 'demo',
  password: 'demo-password',
} as const

/** Access-token lifetime in service-worker mode; `?ttl=SECONDS` overrides it. */
const DEFAULT_TTL_SEC = 60

export async function startBackend(): Promise<Backend> {
  const api = import.meta.env.VITE_TOKENFLIGHT_API?.trim()
  return api ? connectToServer(api.replace(/\/+$/, '')) : startServiceWorker()
}

function ttlFromQuery(): number {
  const raw = new URLSearchParams(window.location.search).get('ttl')
  const ttl = raw === null ? NaN : Number(raw)
  return Number.isFinite(ttl) && ttl > 0 ? ttl : DEFAULT_TTL_SEC
}

async function startServiceWorker(): Promise<Backend> {
  // Loaded on demand: in real-server mode the bundle never pulls in MSW.
  const [{ createAuthServer }, { startAuthWorker }] = await Promise.all([
    import('@tokenflight/mock-server'),
    import('@tokenflight/mock-server/browser'),
  ])
  const accessTokenTtlSec = ttlFromQuery()
  const server = createAuthServer({ accessTokenTtlSec })
  const baseUrl = `${window.location.origin}/api`
  const worker = await startAuthWorker(server, {
    baseUrl,
    serviceWorkerUrl: `${import.meta.env.BASE_URL}mockServiceWorker.js`,
    quiet: true,
  })
  return {
    kind: 'service-worker',
    // One server state for every tab (and across reloads) where IndexedDB and Web Locks exist.
    shared: worker.shared,
    baseUrl,
    accessTokenTtlSec,
    expireAccessTokens: async () => server.expireAccessTokens(),
    revokeSessions: async () => server.revokeSessions(),
    stats: async () => server.stats,
  }
}

async function connectToServer(baseUrl: string): Promise<Backend> {
  const admin = async (path: string, method: 'GET' | 'POST') => {
    const response = await fetch(`${baseUrl}/__admin/${path}`, { method })
    if (!response.ok) {
      throw new Error(`${method} /__admin/${path} answered ${response.status}`)
    }
    return response
  }
  const stats = async (): Promise<ServerStats> =>
    (await (await admin('stats', 'GET')).json()) as ServerStats
  // Fail at start-up with a clear message rather than on the first click.
  await stats()
  return {
    kind: 'server',
    shared: true,
    baseUrl,
    accessTokenTtlSec: null,
    expireAccessTokens: async () => {
      await admin('expire-access-tokens', 'POST')
    },
    revokeSessions: async () => {
      await admin('revoke-sessions', 'POST')
    },
    stats,
  }
}
