import type { AxiosInstance, InternalAxiosRequestConfig } from 'axios'
import type { Session } from '@tokenflight/core'

/**
 * One bar of the request timeline, from real events of the app's axios instance and session:
 * - `first`: a request's first try, sent to its answer (a 401 when the token had expired);
 * - `held`: a request waiting for the new token, from its 401 (or from a call made during a
 *   refresh) until it is sent;
 * - `refresh`: the session's status was 'refreshing';
 * - `retry`: the one retry attachSession sends with the new token.
 */
export type Span = {
  lane: 'first' | 'held' | 'refresh' | 'retry'
  start: number
  end: number
  status?: number
}

export type FlightRecording = { startedAt: number; spans: readonly Span[] }

export type FlightRecorder = {
  getSnapshot(): FlightRecording
  subscribe(listener: () => void): () => void
  /** Starts a new recording (the demo's buttons call it before they act). */
  begin(): void
}

const LIMIT = 400

/**
 * Records the app's requests. Call it with the instance *before* `attachSession` (its
 * interceptors then wrap tokenflight's: axios runs request interceptors last-registered
 * first, response interceptors in order) and call the returned `afterAttach` after it.
 */
export function recordFlights(
  api: AxiosInstance,
  session: Session,
): { recorder: FlightRecorder; afterAttach(): void } {
  let recording: FlightRecording = { startedAt: Date.now(), spans: [] }
  const listeners = new Set<() => void>()
  const called = new WeakMap<InternalAxiosRequestConfig, number>()
  const sent = new WeakMap<InternalAxiosRequestConfig, number>()
  // 401s whose retry has not been sent yet, oldest first.
  let waiting: number[] = []
  let refreshingSince: number | null = null

  const push = (span: Span) => {
    recording = {
      ...recording,
      spans: [...recording.spans, span].slice(-LIMIT),
    }
    for (const listener of listeners) listener()
  }

  // Runs last, after tokenflight's interceptor has put the token on (or held the request).
  api.interceptors.request.use((config) => {
    const now = Date.now()
    sent.set(config, now)
    if (config.skipAuthRefresh === true) {
      // A retry: the request that got the oldest pending 401 was held until now.
      const since = waiting.shift()
      if (since !== undefined) push({ lane: 'held', start: since, end: now })
    } else {
      const since = called.get(config)
      if (since !== undefined) push({ lane: 'held', start: since, end: now })
    }
    return config
  })
  const answered = (
    config: InternalAxiosRequestConfig | undefined,
    status: number | undefined,
  ) => {
    const start = config && sent.get(config)
    if (!config || start === undefined) return
    const end = Date.now()
    const retry = config.skipAuthRefresh === true
    push({
      lane: retry ? 'retry' : 'first',
      start,
      end,
      ...(status === undefined ? {} : { status }),
    })
    if (!retry && status === 401) waiting.push(end)
  }
  // Runs first on every answer, before tokenflight's.
  api.interceptors.response.use(
    (response) => {
      answered(response.config, response.status)
      return response
    },
    (error: unknown) => {
      const { config, response } = error as {
        config?: InternalAxiosRequestConfig
        response?: { status?: number }
      }
      answered(config, response?.status)
      return Promise.reject(error)
    },
  )

  session.subscribe(() => {
    const refreshing = session.getSnapshot().status === 'refreshing'
    if (refreshing && refreshingSince === null) refreshingSince = Date.now()
    if (!refreshing && refreshingSince !== null) {
      push({ lane: 'refresh', start: refreshingSince, end: Date.now() })
      refreshingSince = null
      // A failed refresh sends no retries: nobody is held any more.
      if (session.getSnapshot().status !== 'authenticated') waiting = []
    }
  })

  return {
    recorder: {
      getSnapshot: () => recording,
      subscribe(listener) {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
      begin() {
        waiting = []
        recording = { startedAt: Date.now(), spans: [] }
        for (const listener of listeners) listener()
      },
    },
    afterAttach() {
      // Runs first: the moment the app made the call, when it will wait for a refresh.
      api.interceptors.request.use((config) => {
        if (session.getSnapshot().status === 'refreshing')
          called.set(config, Date.now())
        return config
      })
    },
  }
}
