import { setupWorker } from 'msw/browser'
import { authHandlers } from './authHandlers.ts'
import type { AuthServer } from './types.ts'

export type StartAuthWorkerOptions = {
  /** Passed to `authHandlers`. Default `''`: the page's origin. */
  baseUrl?: string
  /** Default `'/mockServiceWorker.js'` (create it with `npx msw init <publicDir> --save`). */
  serviceWorkerUrl?: string
  /** Silence MSW's console messages. Default false. */
  quiet?: boolean
}

/** Serves `server` from a service worker; requests it does not know go to the network. */
export async function startAuthWorker(
  server: AuthServer,
  options: StartAuthWorkerOptions = {},
): Promise<{ stop(): void }> {
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
  return { stop: () => worker.stop() }
}
