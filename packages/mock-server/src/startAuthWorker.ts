import { setupWorker } from 'msw/browser'
import { authHandlers } from './authHandlers.ts'
import { shareState } from './sharedState.ts'
import type { AuthServer } from './types.ts'

export type StartAuthWorkerOptions = {
  /** Passed to `authHandlers`. Default `''`: the page's origin. */
  baseUrl?: string
  /** Default `'/mockServiceWorker.js'` (create it with `npx msw init <publicDir> --save`). */
  serviceWorkerUrl?: string
  /** Silence MSW's console messages. Default false. */
  quiet?: boolean
  /**
   * One server state for every tab of this origin (IndexedDB + Web Locks), kept across
   * reloads until `reset()`. Default true; `{ name }` picks the state (default: the
   * resolved `baseUrl`); false keeps the state in this tab's memory.
   */
  sharedState?: boolean | { name?: string }
}

export type RunningAuthWorker = {
  stop(): void
  /** Whether the tabs share one state (false where IndexedDB or Web Locks are missing). */
  shared: boolean
}

/** Serves `server` from a service worker; requests it does not know go to the network. */
export async function startAuthWorker(
  server: AuthServer,
  options: StartAuthWorkerOptions = {},
): Promise<RunningAuthWorker> {
  const sharing = options.sharedState ?? true
  const shared =
    sharing !== false &&
    (await shareState(
      server,
      (typeof sharing === 'object' ? sharing.name : undefined) ??
        stateName(options.baseUrl),
    ))
  const worker = setupWorker(
    ...authHandlers(
      server,
      options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl },
    ),
  )
  await worker.start({
    onUnhandledRequest: 'bypass',
    quiet: options.quiet ?? false,
    serviceWorker: { url: options.serviceWorkerUrl ?? '/mockServiceWorker.js' },
  })
  return { stop: () => worker.stop(), shared }
}

/** Servers mounted at the same URL share a state. */
function stateName(baseUrl: string | undefined): string {
  const base = (baseUrl ?? '').replace(/\/+$/, '')
  return typeof location === 'undefined'
    ? base
    : new URL(base === '' ? '/' : base, location.href).href
}
