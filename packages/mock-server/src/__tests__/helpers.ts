import { setupServer } from 'msw/node'
import { afterEach } from 'vitest'
import { authHandlers } from '../authHandlers.ts'
import { createAuthServer } from '../authServer.ts'
import { startAuthServer } from '../startAuthServer.ts'
import type { AuthServer, AuthServerOptions } from '../types.ts'

export type Mode = 'msw' | 'node'
export const modes: Mode[] = ['msw', 'node']

export type Served = { url: string; close(): Promise<void> }

const MSW_ORIGIN = 'http://api.test'

/** Serves `server` through MSW (`setupServer` + `fetch`) or over real sockets. */
export async function serve(mode: Mode, server: AuthServer): Promise<Served> {
  if (mode === 'node') return startAuthServer(server)
  const msw = setupServer(...authHandlers(server, { baseUrl: MSW_ORIGIN }))
  msw.listen({ onUnhandledRequest: 'error' })
  return {
    url: MSW_ORIGIN,
    close: async () => msw.close(),
  }
}

/**
 * The repeated setup of a `describe.each(modes)` block: `start(options)` creates a server
 * (over `defaults`), serves it over `mode`, and it is closed after each test.
 */
export function serverPerTest(
  mode: Mode,
  defaults: AuthServerOptions = {},
): (
  options?: AuthServerOptions,
) => Promise<{ server: AuthServer; url: string }> {
  let served: Served | undefined
  afterEach(async () => {
    await served?.close()
    served = undefined
  })
  return async (options = {}) => {
    const server = createAuthServer({ ...defaults, ...options })
    served = await serve(mode, server)
    return { server, url: served.url }
  }
}

export type TokenBody = {
  access_token: string
  refresh_token: string
  token_type: string
  expires_in: number
}

export function form(fields: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  }
}

export function json(
  method: string,
  body: unknown,
  token?: string,
): RequestInit {
  return {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  }
}

export function bearer(token: string, init: RequestInit = {}): RequestInit {
  return {
    ...init,
    headers: {
      ...(init.headers as Record<string, string>),
      Authorization: `Bearer ${token}`,
    },
  }
}

export async function login(
  url: string,
  credentials = { username: 'demo', password: 'demo-password' },
): Promise<TokenBody> {
  const response = await fetch(`${url}/token`, form(credentials))
  if (response.status !== 200)
    throw new Error(`login failed: ${response.status}`)
  return (await response.json()) as TokenBody
}

export function refresh(url: string, refreshToken: string): Promise<Response> {
  return fetch(`${url}/refresh`, json('POST', { refresh_token: refreshToken }))
}

export function me(url: string, accessToken: string): Promise<Response> {
  return fetch(`${url}/me`, bearer(accessToken))
}

export { deferred } from '@tokenflight/test-utils'

/** A clock the test moves by hand (epoch ms). */
export function manualClock(start = Date.UTC(2030, 0, 1)): {
  now: () => number
  advance(ms: number): void
} {
  let current = start
  return {
    now: () => current,
    advance: (ms) => {
      current += ms
    },
  }
}
