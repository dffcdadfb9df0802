import axios, { isAxiosError } from 'axios'
import type { AxiosInstance, CreateAxiosDefaults } from 'axios'
import { createSession, oauth2Client } from '@tokenflight/core'
import type {
  Session,
  SessionOptions,
  SessionSnapshot,
} from '@tokenflight/core'
import { DEFAULT_USER } from '@tokenflight/mock-server'
import { attachSession } from '../attachSession'
import type { AttachSessionOptions } from '../attachSession'
import { deferred } from '@tokenflight/test-utils'

export const API = 'http://api.test'
export const FOREIGN = 'http://foreign.test'
export const isBrowser = typeof window !== 'undefined'

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

/** Counts the 401s an instance receives before attachSession's interceptor sees them. */
export function count401s(n: number) {
  const seen = counter(n)
  return {
    reached: seen.reached,
    before: (api: AxiosInstance) =>
      void api.interceptors.response.use(undefined, (error: unknown) => {
        if (isAxiosError(error) && error.response?.status === 401) seen.count()
        throw error
      }),
  }
}

export type SignedIn = {
  session: Session
  api: AxiosInstance
  detach: () => void
}

/** A session logged in to the mock server at `baseUrl` and an axios instance attached to it. */
export async function signIn(
  options: {
    baseUrl?: string
    session?: Partial<SessionOptions>
    axios?: CreateAxiosDefaults
    attach?: AttachSessionOptions
    /** Runs before attachSession: an interceptor added here sees responses before ours. */
    before?: (api: AxiosInstance) => void
  } = {},
): Promise<SignedIn> {
  const baseUrl = options.baseUrl ?? API
  const session = createSession({
    ...oauth2Client({ baseUrl }),
    retry: { attempts: 0, baseDelayMs: 1 },
    ...options.session,
  })
  await session.login(DEFAULT_USER)
  const api = axios.create({ baseURL: baseUrl, ...options.axios })
  options.before?.(api)
  const detach = attachSession(api, session, options.attach)
  return { session, api, detach }
}

/** The bearer token a request carried, or null. */
export const bearer = (request: Request) =>
  request.headers.get('authorization')?.replace(/^Bearer /, '') ?? null
