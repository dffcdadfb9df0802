import { createSession, oauth2Client } from '@tokenflight/core'
import type {
  Session,
  SessionOptions,
  SessionSnapshot,
} from '@tokenflight/core'
import { DEFAULT_USER } from '@tokenflight/mock-server'
import { createFetch } from '../createFetch'
import type {
  AuthFetch,
  AuthRequestInit,
  CreateFetchOptions,
} from '../createFetch'

export const API = 'http://api.test'
export const FOREIGN = 'http://foreign.test'
export const isBrowser = typeof window !== 'undefined'

import { deferred } from '@tokenflight/test-utils'

export { deferred, type Deferred } from '@tokenflight/test-utils'

/** Resolves when `count()` has been called `n` times. */
export function counter(n: number) {
  const reached = deferred()
  let seen = 0
  return {
    reached: reached.promise,
    get seen() {
      return seen
    },
    count() {
      if (++seen === n) reached.resolve()
    },
  }
}

/** The settled outcome of each promise, errors included, in order. */
export const settle = <T>(promises: Promise<T>[]) =>
  Promise.allSettled(promises).then((results) =>
    results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason)),
  )

/** Resolves once the session's snapshot satisfies `predicate`. */
export const until = (
  session: Session,
  predicate: (snapshot: SessionSnapshot) => boolean,
) =>
  new Promise<void>((resolve) => {
    if (predicate(session.getSnapshot())) return resolve()
    const off = session.subscribe(() => {
      if (!predicate(session.getSnapshot())) return
      off()
      resolve()
    })
  })

export const times = <T>(n: number, make: (i: number) => T) =>
  Array.from({ length: n }, (_, i) => make(i))

/** A fetch that counts the 401s it hands back (to createFetch, before it sees them). */
export function count401s(n: number) {
  const seen = counter(n)
  return {
    reached: seen.reached,
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await fetch(input, init)
      if (response.status === 401) seen.count()
      return response
    },
  }
}

export type SignedIn = {
  session: Session
  api: AuthFetch
  /** `api` on a path of the API. */
  get: (path: string, init?: AuthRequestInit) => Promise<Response>
}

/** A session logged in to the mock server at `baseUrl` and a createFetch bound to it. */
export async function signIn(
  options: {
    baseUrl?: string
    session?: Partial<SessionOptions>
    fetch?: CreateFetchOptions
  } = {},
): Promise<SignedIn> {
  const baseUrl = options.baseUrl ?? API
  const session = createSession({
    ...oauth2Client({ baseUrl }),
    retry: { attempts: 0, baseDelayMs: 1 },
    ...options.session,
  })
  await session.login(DEFAULT_USER)
  const api = createFetch(session, {
    allowedOrigins: [baseUrl],
    ...options.fetch,
  })
  return {
    session,
    api,
    get: (path, init) => api(`${baseUrl}${path}`, init),
  }
}

/** The bearer token a request carried, or null. */
export const bearer = (request: Request) =>
  request.headers.get('authorization')?.replace(/^Bearer /, '') ?? null

/** A one-shot body: a stream that can be read once. */
export const streamOf = (text: string) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text))
      controller.close()
    },
  })
