import {
  InvalidTokenResponseError,
  RefreshError,
  RefreshTimeoutError,
  SessionExpiredError,
  StorageError,
  TokenflightError,
} from './errors'
import { memoryStorage } from './memoryStorage'
import { normalizeTokenResponse } from './normalizeTokenResponse'
import type {
  Session,
  SessionEvent,
  SessionEvents,
  SessionOptions,
  SessionSnapshot,
  SessionStatus,
  TokenSet,
} from './types'

type Flight = {
  promise: Promise<TokenSet>
  resolve: (tokens: TokenSet) => void
  reject: (error: unknown) => void
  /** Started by getAccessToken inside the leeway, while the token still works. */
  proactive: boolean
  controller?: AbortController
}

// Duck-typed so that axios, ky, fetch wrappers and OAuth2HttpError all classify alike.
type HttpLike = {
  status?: unknown
  data?: { error?: unknown }
  response?: { status?: unknown; data?: { error?: unknown } }
}

const sessionEnded = () =>
  new SessionExpiredError('The session ended while waiting for a token')

function toRefreshError(
  error: unknown,
  isTerminal: SessionOptions['isTerminal'],
): RefreshError {
  if (error instanceof RefreshTimeoutError) return error
  const e = (typeof error === 'object' && error ? error : {}) as HttpLike
  const s = e.status ?? e.response?.status
  const c = e.response?.data?.error ?? e.data?.error
  const status = typeof s === 'number' ? s : undefined
  const code = typeof c === 'string' ? c : undefined
  const terminal = isTerminal
    ? isTerminal(error)
    : status === 400 ||
      status === 401 ||
      status === 403 ||
      code === 'invalid_grant'
  return new RefreshError(
    `Token refresh failed${status ? ` with ${status}` : ''}${code ? ` (${code})` : ''}`,
    { cause: error, terminal, status, code },
  )
}

// A listener or handler that throws must not break the session or the others.
function safely<T>(fn: (arg: T) => void, arg: T) {
  try {
    fn(arg)
  } catch (error) {
    // Browsers report it like an uncaught error without unwinding us; elsewhere it is dropped.
    ;(globalThis as { reportError?: (e: unknown) => void }).reportError?.(error)
  }
}

/** Creates the observable session that owns the tokens and runs single-flight refreshes. */
export function createSession(options: SessionOptions): Session {
  const {
    storage = memoryStorage(),
    refreshTimeoutMs = 10_000,
    refreshLeewayMs = 30_000,
    retry: { attempts = 2, baseDelayMs = 250 } = {},
    isTerminal,
    now = Date.now,
  } = options
  const listeners = new Set<() => void>()
  const handlers = new Map<SessionEvent, Set<(e: never) => void>>()
  let tokens: TokenSet | null = null
  let generation = 0
  // Moves on every commit, even null → null, so a pending login or hydration can tell it lost.
  let epoch = 0
  let snapshot: SessionSnapshot = {
    status: 'anonymous',
    tokens,
    generation,
    error: null,
  }
  let flight: Flight | undefined
  let hydrating: Promise<void> | undefined
  let writes: Promise<void> = Promise.resolve()

  const emit = <E extends SessionEvent>(event: E, payload: SessionEvents[E]) =>
    handlers
      .get(event)
      ?.forEach((h) => safely(h as (e: SessionEvents[E]) => void, payload))

  const update = (patch: Partial<SessionSnapshot>) => {
    const next = { ...snapshot, ...patch }
    if (
      next.status === snapshot.status &&
      next.tokens === snapshot.tokens &&
      next.generation === snapshot.generation &&
      next.error === snapshot.error
    )
      return
    snapshot = next
    ;[...listeners].forEach((l) => safely(l, undefined))
  }

  const storageFailed = (operation: 'get' | 'set', cause: unknown) =>
    emit('storageError', {
      error: new StorageError(`Token storage ${operation} failed`, { cause }),
      operation,
    })

  // Writes are chained so that an async storage sees them in order.
  const persist = (next: TokenSet | null) =>
    (writes = writes
      .then(() => storage.set(next))
      .then(undefined, (e: unknown) => storageFailed('set', e)))

  /** Replaces the tokens: generation +1; a refresh still in flight is superseded. */
  const commit = (
    next: TokenSet | null,
    status: SessionStatus,
    error: TokenflightError | null = null,
    store = true,
  ) => {
    const superseded = flight
    flight = undefined
    epoch++
    if (next || tokens) generation++
    tokens = next
    update({ status, tokens, generation, error })
    if (superseded) {
      superseded.controller?.abort()
      if (next) superseded.resolve(next)
      else superseded.reject(sessionEnded())
    }
    return store ? persist(next) : writes
  }

  // Runs `work` with a signal that aborts after refreshTimeoutMs (0 or Infinity: never) and
  // rejects at that deadline even when `work` ignores the signal.
  const withDeadline = (
    controller: AbortController,
    work: (signal: AbortSignal) => Promise<unknown>,
  ) =>
    new Promise<unknown>((resolve, reject) => {
      const timer =
        refreshTimeoutMs > 0 && refreshTimeoutMs < Infinity
          ? setTimeout(() => {
              const error = new RefreshTimeoutError(refreshTimeoutMs)
              controller.abort(error)
              reject(error)
            }, refreshTimeoutMs)
          : undefined
      Promise.resolve()
        .then(() => work(controller.signal))
        .then(resolve, reject)
        .finally(() => clearTimeout(timer))
    })

  const run = async (f: Flight, current: TokenSet) => {
    for (let attempt = 0; ; attempt++) {
      let error: RefreshError
      try {
        const body = await withDeadline(
          (f.controller = new AbortController()),
          (signal) => options.refresh({ tokens: current, signal }),
        )
        const next = normalizeTokenResponse(body, now())
        if (flight !== f) return
        // RFC 6749 §6: no new refresh token means the old one stays valid.
        if (next.refreshToken === undefined && current.refreshToken)
          next.refreshToken = current.refreshToken
        flight = undefined
        void commit(next, 'authenticated')
        emit('refreshed', { generation, expiresAt: next.expiresAt })
        f.resolve(next)
        return
      } catch (e) {
        if (flight !== f) return
        if (e instanceof InvalidTokenResponseError) {
          // A malformed body is a server bug: retrying will not fix it, nor is the grant dead.
          error = new RefreshError('Token refresh answered an invalid body', {
            cause: e,
            terminal: false,
          })
        } else {
          error = toRefreshError(e, isTerminal)
          if (!error.terminal && attempt < attempts) {
            await new Promise((r) => setTimeout(r, baseDelayMs * 2 ** attempt))
            if (flight !== f) return
            continue
          }
        }
      }
      flight = undefined
      if (error.terminal) {
        void commit(null, 'expired', error)
        emit('expired', { error })
      } else {
        update({ status: 'authenticated', error })
      }
      emit('refreshFailed', { error })
      f.reject(error)
      return
    }
  }

  const start = (current: TokenSet, proactive: boolean) => {
    let resolve!: Flight['resolve']
    let reject!: Flight['reject']
    const promise = new Promise<TokenSet>((res, rej) => {
      resolve = res
      reject = rej
    })
    const f: Flight = (flight = { promise, resolve, reject, proactive })
    update({ status: 'refreshing' })
    void run(f, current)
    return f
  }

  const refresh = (): Promise<TokenSet> => {
    if (flight) return flight.promise
    if (hydrating) return hydrating.then(refresh)
    if (!tokens) return Promise.reject(sessionEnded())
    return start(tokens, false).promise
  }

  // Hydration: a sync storage is read before createSession returns; an async one is
  // awaited by getAccessToken, refresh and login, and loses to any token change made meanwhile.
  const hydrate = (stored: unknown) => {
    try {
      return stored ? normalizeTokenResponse(stored, now()) : null
    } catch (e) {
      // Reported once createSession has returned, so handlers can listen.
      queueMicrotask(() => storageFailed('get', e))
      return null
    }
  }
  try {
    const stored = storage.get()
    if (stored && 'then' in stored) {
      hydrating = stored.then(
        (value) => {
          hydrating = undefined
          const next = hydrate(value)
          if (next && !epoch) void commit(next, 'authenticated', null, false)
        },
        (e: unknown) => {
          hydrating = undefined
          storageFailed('get', e)
        },
      )
    } else {
      tokens = hydrate(stored)
      if (tokens) snapshot = { ...snapshot, status: 'authenticated', tokens }
    }
  } catch (e) {
    queueMicrotask(() => storageFailed('get', e))
  }

  return {
    getSnapshot: () => snapshot,

    subscribe(listener) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },

    on(event, handler) {
      let set = handlers.get(event)
      if (!set) handlers.set(event, (set = new Set()))
      set.add(handler)
      return () => void set.delete(handler)
    },

    refresh,

    async getAccessToken() {
      if (hydrating) await hydrating
      const current = tokens
      const early =
        current?.expiresAt !== undefined &&
        refreshLeewayMs > 0 &&
        current.expiresAt - now() < refreshLeewayMs
      const f = flight ?? (current && early ? start(current, true) : undefined)
      if (!f) return current?.accessToken ?? null
      try {
        return (await f.promise).accessToken
      } catch (e) {
        // A proactive refresh that failed transiently: the current token still works until it expires.
        if (
          f.proactive &&
          e instanceof RefreshError &&
          !e.terminal &&
          tokens === current &&
          current &&
          (current.expiresAt === undefined || now() < current.expiresAt)
        )
          return current.accessToken
        throw e
      }
    },

    async setTokens(next) {
      await commit(
        next === null ? null : normalizeTokenResponse(next, now()),
        next === null ? 'anonymous' : 'authenticated',
      )
    },

    async login(credentials) {
      if (!options.login)
        throw new TokenflightError('createSession was given no login function')
      if (hydrating) await hydrating
      const before = epoch
      const body = await options.login(credentials, {
        signal: new AbortController().signal,
      })
      const next = normalizeTokenResponse(body, now())
      // A logout or another token change happened meanwhile: it wins.
      if (epoch !== before) throw sessionEnded()
      await commit(next, 'authenticated')
      return next
    },

    async logout() {
      const old = tokens
      const cleared = commit(null, 'anonymous')
      emit('loggedOut', { generation })
      await cleared
      if (!old || !options.logout) return
      try {
        const logout = options.logout
        await withDeadline(new AbortController(), (signal) =>
          logout({ tokens: old, signal }),
        )
      } catch (cause) {
        // Best effort: the local session is already gone; report, never reject.
        emit('logoutFailed', {
          error: new TokenflightError('The server-side logout failed', {
            cause,
          }),
        })
      }
    },
  }
}
