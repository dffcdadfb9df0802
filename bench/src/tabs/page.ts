// One tab of the multi-tab bench, in Chromium. Two clients, as an app would write them:
// - tokenflight: createSession on browserStorage + attachSession, with the lock and the
//   /refresh call timed (the lock's cost is the rest of the time the lock is held);
// - the seed-003 client: axios-auth-refresh with the tokens in localStorage, read on every
//   request and by the refresh logic (the hand-written client the issue measured), with
//   its defaults and with `deduplicateRefresh: false`.
import { attachSession } from '@tokenflight/axios'
import { browserStorage, createSession, oauth2Client } from '@tokenflight/core'
import type { TokenStorage } from '@tokenflight/core'
import axios from 'axios'
import type { AxiosError, AxiosInstance } from 'axios'
import { createAuthRefresh } from 'axios-auth-refresh'

export type Client = 'tokenflight' | 'seed-003' | 'seed-003-no-dedupe'

/** Epoch milliseconds with sub-millisecond precision, comparable across tabs. */
const now = () => performance.timeOrigin + performance.now()

/** One `lock(work)` in this tab: asked, granted, released; and the /refresh call inside, if any. */
export type LockTiming = {
  asked: number
  granted: number
  released: number
  call?: { start: number; end: number }
}

let http: AxiosInstance | undefined
let login: (() => Promise<void>) | undefined
let signedIn: () => boolean = () => false
const locks: LockTiming[] = []

const bench = {
  start(client: Client, baseUrl: string, name: string) {
    if (client === 'tokenflight') {
      const shared = browserStorage({ name })
      const timed: TokenStorage = {
        ...shared,
        lock: (work, ctx) => {
          const timing: LockTiming = { asked: now(), granted: 0, released: 0 }
          locks.push(timing)
          return shared.lock!(() => {
            timing.granted = now()
            return work().finally(() => {
              timing.released = now()
            })
          }, ctx)
        },
      }
      const endpoints = oauth2Client({ baseUrl })
      const session = createSession({
        ...endpoints,
        refresh: async (ctx) => {
          const call = { start: now(), end: 0 }
          const timing = locks.at(-1)
          if (timing) timing.call = call
          try {
            return await endpoints.refresh(ctx)
          } finally {
            call.end = now()
          }
        },
        storage: timed,
        refreshLeewayMs: 0,
      })
      http = axios.create({ baseURL: baseUrl })
      attachSession(http, session)
      login = async () => {
        await session.login({ username: 'demo', password: 'demo-password' })
      }
      signedIn = () => session.getSnapshot().status === 'authenticated'
      return session.getAccessToken().then(() => undefined)
    }
    const key = `seed-003-${name}`
    type Stored = { access_token: string; refresh_token: string }
    const read = () => JSON.parse(localStorage.getItem(key) ?? 'null') as Stored
    const refreshHttp = axios.create({ baseURL: baseUrl })
    http = axios.create({ baseURL: baseUrl })
    createAuthRefresh(
      http,
      async (failed: AxiosError) => {
        const { data } = await refreshHttp.post<Stored>('/refresh', {
          refresh_token: read().refresh_token,
        })
        localStorage.setItem(key, JSON.stringify(data))
        failed.response!.config.headers['Authorization'] =
          `Bearer ${data.access_token}`
      },
      client === 'seed-003' ? {} : { deduplicateRefresh: false },
    )
    http.interceptors.request.use((config) => {
      config.headers['Authorization'] = `Bearer ${read()?.access_token}`
      return config
    })
    login = async () => {
      const { data } = await refreshHttp.post<Stored>(
        '/token',
        new URLSearchParams({ username: 'demo', password: 'demo-password' }),
      )
      localStorage.setItem(key, JSON.stringify(data))
    }
    signedIn = () => localStorage.getItem(key) !== null
    return Promise.resolve()
  },
  login: () => login!(),
  signedIn: () => signedIn(),
  /** `n` GET /todos at once: how many were served. */
  async fire(n: number) {
    const results = await Promise.allSettled(
      Array.from({ length: n }, () => http!.get('/todos')),
    )
    return results.filter((r) => r.status === 'fulfilled').length
  },
  locks: () => locks,
}

declare global {
  interface Window {
    bench: typeof bench
  }
}
window.bench = bench
