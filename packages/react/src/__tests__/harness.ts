import { attachSession } from '@tokenflight/axios'
import {
  createSession,
  oauth2Client,
  type Session,
  type TokenStorage,
} from '@tokenflight/core'
import {
  authHandlers,
  createAuthServer,
  type AuthServer,
} from '@tokenflight/mock-server'
import { cleanup } from '@testing-library/react'
import axios, { type AxiosInstance } from 'axios'
import { http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { gate as createGate } from '@tokenflight/test-utils'

export const baseUrl = 'http://api.test'
export const demoUser = { username: 'demo', password: 'demo-password' }

const msw = setupServer()

/** Starts MSW for the calling test file; every test gets its own auth server via createHarness(). */
export function useMockServer(): void {
  beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
  afterEach(() => {
    cleanup()
    msw.resetHandlers()
  })
  afterAll(() => msw.close())
}

export type Harness = { auth: AuthServer; session: Session; api: AxiosInstance }

/**
 * A fresh mock auth server, a session on its endpoints and an axios instance attached to it.
 * With `shared`, the session keeps its tokens in that storage and talks to that auth server:
 * two harnesses so are two tabs of one app.
 */
export function createHarness(shared?: {
  auth: AuthServer
  storage: TokenStorage
}): Harness {
  const auth = shared?.auth ?? createAuthServer()
  msw.use(...authHandlers(auth, { baseUrl }))
  const session = createSession({
    ...oauth2Client({ baseUrl }),
    ...(shared && { storage: shared.storage }),
    // Terminal failures are not retried anyway; no retry keeps transient cases quick.
    retry: { attempts: 0, baseDelayMs: 0 },
  })
  const api = axios.create({ baseURL: baseUrl })
  attachSession(api, session)
  return { auth, session, api }
}

export { gate as createGate, type Gate } from '@tokenflight/test-utils'

/**
 * Holds the next POST to `path` until `release()`; then it falls through to the auth
 * server's own handler. Lets a test look at the in-between state without sleeping.
 */
export function holdNext(path: string): {
  reached: Promise<void>
  release: () => void
} {
  const reached = createGate()
  const gate = createGate()
  msw.use(
    http.post(
      `${baseUrl}${path}`,
      async () => {
        reached.open()
        await gate.promise
        // Returning nothing hands the request on to the next handler.
      },
      { once: true },
    ),
  )
  return { reached: reached.promise, release: gate.open }
}
