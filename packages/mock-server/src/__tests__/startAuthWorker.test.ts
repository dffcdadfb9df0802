import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createAuthServer } from '../authServer.ts'
import { ROUTES } from '../routes.ts'

// Service workers do not exist in Node: stand in for MSW's setupWorker and check
// how startAuthWorker drives it (the handlers themselves are tested with setupServer).
const worker = vi.hoisted(() => ({
  handlers: [] as unknown[],
  start: vi.fn(async (_options: unknown) => undefined),
  stop: vi.fn(),
}))
vi.mock('msw/browser', () => ({
  setupWorker: (...handlers: unknown[]) => {
    worker.handlers = handlers
    return { start: worker.start, stop: worker.stop }
  },
}))

const { startAuthWorker } = await import('../startAuthWorker.ts')

describe('startAuthWorker', () => {
  beforeEach(() => {
    worker.start.mockClear()
    worker.stop.mockClear()
  })

  it('starts a worker with every handler, bypassing unknown requests', async () => {
    const running = await startAuthWorker(createAuthServer())
    // One per route, and one for the other admin paths (404).
    expect(worker.handlers).toHaveLength(ROUTES.length + 1)
    expect(worker.start).toHaveBeenCalledWith({
      onUnhandledRequest: 'bypass',
      quiet: false,
      serviceWorker: { url: '/mockServiceWorker.js' },
    })
    running.stop()
    expect(worker.stop).toHaveBeenCalledOnce()
  })

  it('passes serviceWorkerUrl and quiet through', async () => {
    await startAuthWorker(createAuthServer(), {
      baseUrl: 'http://api.test',
      serviceWorkerUrl: '/mocks/worker.js',
      quiet: true,
    })
    const [first] = worker.handlers as Array<{ info: { path: string } }>
    expect(first!.info.path).toBe('http://api.test/token')
    expect(worker.start).toHaveBeenCalledWith({
      onUnhandledRequest: 'bypass',
      quiet: true,
      serviceWorker: { url: '/mocks/worker.js' },
    })
  })
})
