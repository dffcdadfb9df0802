// The page each Chromium tab loads in sharedState.browser.test.ts: a mock server started
// exactly as an app starts it, and a few handles for the test.
import { createAuthServer } from '../../index.ts'
import { startAuthWorker } from '../../browser.ts'
import type { AuthServer, Fault } from '../../types.ts'

export type Answer = { status: number; body: string }

export type TabApi = {
  server: AuthServer
  shared: boolean
  call(path: string, init?: RequestInit): Promise<Answer>
  /** A gate fault this tab opens when the test says so. */
  injectGate(endpoint: Fault['endpoint']): void
  openGate(): void
}

declare global {
  interface Window {
    tab: TabApi
  }
}

const params = new URLSearchParams(location.search)
const server = createAuthServer({
  reuse:
    params.get('reuse') === 'parent-of-active' ? 'parent-of-active' : 'strict',
})
const worker = await startAuthWorker(server, {
  baseUrl: `${location.origin}/api`,
  quiet: true,
  ...(params.get('shared') === 'no' ? { sharedState: false } : {}),
})
let open = () => {}
window.tab = {
  server,
  shared: worker.shared,
  call: async (path, init) => {
    const response = await fetch(`/api${path}`, init)
    return { status: response.status, body: await response.text() }
  },
  injectGate: (endpoint) =>
    server.inject({
      endpoint,
      kind: 'gate',
      until: new Promise<void>((resolve) => (open = resolve)),
    }),
  openGate: () => open(),
}
document.title = 'ready'
