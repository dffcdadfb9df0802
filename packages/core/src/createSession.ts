import {
  RefreshError,
  RefreshTimeoutError,
  SessionExpiredError,
  StorageError,
  TokenflightError,
  isTokenflightError,
  sessionEnded,
} from './errors'
import { jwtClaims, normalizeTokenResponse } from './normalizeTokenResponse'
import { sameTokens } from './sameTokens'
import { toRefreshError } from './toRefreshError'
import type {
  Session,
  SessionEvents,
  SessionOptions,
  SessionSnapshot,
  StorageOperation,
  TokenSet,
} from './types'

/** What one try ended with: new tokens, another holder's, or a failure. */
type Outcome =
  { next: TokenSet } | { stored: TokenSet | null } | { error: unknown }

/** One refresh() in flight, shared by every caller until it settles or is superseded. */
type Flight = {
  promise: Promise<TokenSet>
  resolve: (tokens: TokenSet) => void
  reject: (error: unknown) => void
  /** Started by getAccessToken inside the leeway, while the token still works. */
  proactive: boolean
  controller?: AbortController
}

/** A flight whose refresh failed terminally, kept pending for a sign-in of `user` (holdForLogin). */
type Hold = {
  flight: Flight
  user: unknown
  error: RefreshError
  timer: ReturnType<typeof setTimeout>
}

/*
 * States (snapshot.status) and what moves them:
 *
 *   anonymous ──login/setTokens──▶ authenticated ──refresh starts──▶ refreshing
 *       ▲                              ▲    │                         │  │  │
 *       └────────────logout────────────┼────┘◀──────new tokens────────┘  │  │
 *                                      └──────transient failure──────────┘  │
 *   expired ◀────────────────────────────terminal failure───────────────────┘
 *      └──login/setTokens──▶ authenticated            (logout from any state: anonymous)
 *
 * Invariant: a flight exists exactly while the status is 'refreshing'.
 *
 * Identity (snapshot.identity): which sign-in the tokens belong to. A refresh, a terminal
 * failure and tokens adopted from a shared storage in place of tokens (another holder's
 * refresh) keep it; login, setTokens, logout, and adopting a sign-out (null) or tokens after
 * one move it. A request is retried only under the identity it was sent with. A storage
 * cannot tell another holder's refresh from its login over a live sign-in (no logout
 * first): that one keeps the identity, unless this holder saw the sign-out in between.
 *
 * Hold (holdForLogin): a terminal failure keeps its flight pending (snapshot.heldUntil set)
 * instead of rejecting it. The next commit ends the hold: tokens of the same user resolve
 * it and keep the identity, so the held requests are retried; anything else (another
 * user, a logout) and the deadline reject it with the failure.
 */

// Bundlers replace `process.env.NODE_ENV`; with no bundler and no `process` (a browser ESM
// import) it throws, and that counts as development.
declare const process: { env: { NODE_ENV?: string } }
const isDev = () => {
  try {
    return process.env.NODE_ENV !== 'production'
  } catch {
    return true
  }
}

// By name, not instanceof: a second copy of this package (ESM next to CJS) has its own classes.
const isNamed = (error: unknown, name: string) =>
  isTokenflightError(error) && error.name === name

/** Creates the observable session that owns the tokens and runs single-flight refreshes. */
export function createSession(options: SessionOptions): Session {
  if (typeof options.refresh !== 'function')
    throw new TokenflightError(
      'createSession needs a refresh option, e.g. oauth2Client({ baseUrl }).refresh',
    )
  const {
    // No storage: the tokens live in memory only, which is what memoryStorage() does.
    storage,
    refreshTimeoutMs = 10_000,
    refreshLeewayMs = 30_000,
    retry: { attempts = 2, baseDelayMs = 250 } = {},
    isTerminal,
    holdForLogin,
    now = Date.now,
  } = options
  if (
    holdForLogin &&
    !(
      typeof holdForLogin.timeoutMs == 'number' &&
      holdForLogin.timeoutMs >= 1 &&
      holdForLogin.timeoutMs <= 2 ** 31 - 1
    )
  )
    throw new TokenflightError(
      `createSession: holdForLogin.timeoutMs is ${holdForLogin.timeoutMs}, not a number of ms from 1 to 2147483647`,
    )
  // Subscribers live under '' next to the event handlers.
  const handlers: { [event: string]: Set<(e: never) => void> } = {}
  let tokens: TokenSet | null = null
  let generation = 0
  let identity = 0
  // Moves on every commit, even null → null, so a pending login or hydration knows it lost.
  let epoch = 0
  let snapshot: SessionSnapshot = {
    status: 'anonymous',
    tokens,
    generation,
    identity,
    error: null,
    heldUntil: null,
  }
  let flight: Flight | undefined
  let hold: Hold | undefined
  // Tokens whose early refresh failed transiently: kept in use until they expire.
  let keep: TokenSet | null = null
  // When the current tokens arrived: the leeway is at most half their lifetime.
  let since = now()
  // A server that refuses what it just issued (a 401 forever): the tokens whose retry was
  // refused last (reportRetry), and how many refreshes in a row ended that way.
  let struck: TokenSet | null = null
  let strikes = 0
  let hydrating: Promise<void> | undefined
  // Ends the wait for hydration: the storage answered, gave up, or the tokens changed.
  let hydrated = () => {}
  let warned = false
  let writes: Promise<void> = Promise.resolve()

  const listen = (event: string, handler: (e: never) => void) => {
    const set = (handlers[event] ??= new Set())
    set.add(handler)
    return () => void set.delete(handler)
  }

  const emit = <E extends keyof SessionEvents | ''>(
    event: E,
    payload?: E extends keyof SessionEvents ? SessionEvents[E] : undefined,
  ) => {
    for (const handler of [...(handlers[event] ?? [])])
      try {
        ;(handler as (e: typeof payload) => void)(payload)
      } catch (error) {
        // A throwing listener must not break the session or the others. Browsers
        // report it like an uncaught error; elsewhere it is dropped.
        ;(globalThis as { reportError?: (e: unknown) => void }).reportError?.(
          error,
        )
      }
  }

  const update = (patch: Partial<SessionSnapshot>) => {
    let key: keyof SessionSnapshot
    for (key in patch)
      if (patch[key] !== snapshot[key]) {
        snapshot = { ...snapshot, ...patch }
        return emit('')
      }
  }

  const storageFailed = (operation: StorageOperation, cause: unknown) => {
    const error = new StorageError(`Token storage ${operation} failed`, {
      cause,
    })
    // One development warning when nobody listens: a broken storage is otherwise silent.
    if (!handlers.storageError?.size && !warned && isDev()) {
      warned = true
      // eslint-disable-next-line no-console
      console.warn(`tokenflight: ${error.message}; listen for 'storageError'`)
    }
    emit('storageError', { error, operation })
    return error
  }

  // Who the tokens belong to, for holdForLogin: undefined when it cannot be told.
  const userOf = (next: TokenSet): unknown => {
    try {
      return (holdForLogin?.user ?? ((t) => jwtClaims(t.accessToken).sub))(next)
    } catch {
      // Not a JWT (or the app's `user` threw): unknown, so nothing is held.
    }
  }

  /** Keeps `f` pending for a sign-in of the user `current` belonged to; false when not held. */
  const holdFor = (f: Flight, current: TokenSet, error: RefreshError) => {
    const user = holdForLogin && userOf(current)
    if (user == null) return false
    const { timeoutMs } = holdForLogin!
    const held: Hold = {
      flight: f,
      user,
      error,
      timer: setTimeout(() => {
        if (hold !== held) return
        hold = undefined
        update({ heldUntil: null })
        f.reject(error)
      }, timeoutMs),
    }
    hold = held
    update({ heldUntil: now() + timeoutMs })
    return true
  }

  /** The refresh of `current` failed terminally: the session expires; `f` is held or rejected. */
  const expire = (f: Flight, current: TokenSet, error: RefreshError) => {
    // Load-bearing, as in settle(): without it commit() would reject the waiters with a
    // bare sessionEnded() instead of this RefreshError.
    flight = undefined
    void commit(null, error, !shared, true)
    emit('expired', { error })
    emit('refreshFailed', { error })
    if (!holdFor(f, current, error)) f.reject(error)
  }

  /**
   * Replaces the tokens; a refresh still in flight is superseded. The status follows:
   * authenticated with tokens, expired when cleared by a (terminal) error, else anonymous.
   */
  const commit = (
    next: TokenSet | null,
    error: TokenflightError | null = null,
    store = true,
    // A refresh of the same sign-in: the identity stays.
    same = false,
  ) => {
    const superseded = flight
    const held = hold
    flight = hold = undefined
    epoch++
    since = now()
    hydrated()
    if (next || tokens) generation++
    // The user whose requests are held signed in again: for them it is the same sign-in.
    const resumed = !!held && !!next && Object.is(userOf(next), held.user)
    if (!same && !resumed) identity++
    tokens = next
    update({
      status: next ? 'authenticated' : error ? 'expired' : 'anonymous',
      tokens,
      generation,
      identity,
      error,
      heldUntil: null,
    })
    if (superseded) {
      superseded.controller?.abort()
      if (next) superseded.resolve(next)
      else superseded.reject(sessionEnded())
    }
    if (held) {
      clearTimeout(held.timer)
      if (resumed) held.flight.resolve(next!)
      else held.flight.reject(held.error)
    }
    // Chained, so that an async storage sees the writes in order.
    if (store)
      writes = writes
        .then(() => withDeadline(() => storage?.set(next), late('set')))
        .catch((e: unknown) => void storageFailed('set', e))
    return writes
  }

  const late = (operation: StorageOperation) => () =>
    new StorageError(
      `Token storage ${operation} did not answer within ${refreshTimeoutMs} ms`,
    )

  // Runs `work` with a signal that aborts after refreshTimeoutMs (0 or Infinity: never),
  // and rejects at that deadline even when `work` ignores the signal. The deadline waits
  // one more macrotask before it aborts: after an event-loop stall (a GC pause, a background
  // tab) the timer and an answer already received are both due, and the answer wins.
  const withDeadline = <T>(
    work: (signal: AbortSignal) => T | PromiseLike<T>,
    timeout: () => Error = () => new RefreshTimeoutError(refreshTimeoutMs),
    controller = new AbortController(),
  ) =>
    new Promise<T>((resolve, reject) => {
      let done = false
      const timer =
        refreshTimeoutMs > 0 && refreshTimeoutMs < Infinity
          ? setTimeout(
              () =>
                setTimeout(() => {
                  if (done) return
                  const error = timeout()
                  controller.abort(error)
                  reject(error)
                }),
              refreshTimeoutMs,
            )
          : undefined
      // Called at once; a throw rejects.
      new Promise<T>((r) => r(work(controller.signal)))
        .then(resolve, reject)
        .finally(() => {
          done = true
          clearTimeout(timer)
        })
    })

  const hydrate = (stored: unknown) =>
    stored ? normalizeTokenResponse(stored, now(), options) : null
  // Shared storages (other holders write to them too) are re-read and written before memory.
  const shared = !!(storage?.lock || storage?.watch)
  const read = async () => hydrate(await storage?.get())
  // A storage that cannot be read is reported; `fallback` stands in for what it holds.
  const reread = (fallback: TokenSet | null) =>
    read().catch((e: unknown) => (storageFailed('get', e), fallback))

  /**
   * Takes tokens another holder put in the storage, without writing back: the generation
   * moves, a refresh in flight resolves with them (or, when they are gone, rejects).
   */
  const adopt = (stored: TokenSet | null, same = true) => {
    if (sameTokens(stored, tokens)) return
    // Emptied while this holder refreshed: most likely another holder's refresh of these
    // tokens failed terminally (a logout there looks the same). With holdForLogin, this
    // holder's waiters are held for the sign-in too, rather than lost.
    if (!stored && flight && holdForLogin && userOf(tokens!) != null)
      return expire(
        flight,
        tokens!,
        new RefreshError('The session ended in another holder', {
          terminal: true,
        }),
      )
    void commit(stored, null, false, same)
    emit('adopted', {
      generation,
      expiresAt: stored?.expiresAt,
      signedIn: !!stored,
    })
  }

  /** Compare-and-set write to a shared storage: what another holder wrote first wins. */
  const store = (next: TokenSet | null, expected: TokenSet) =>
    Promise.resolve()
      .then(() => storage?.set(next, { expected }))
      .then(
        () => next,
        (e: unknown) =>
          isNamed(e, 'StorageConflictError')
            ? reread(next)
            : (storageFailed('set', e), next),
      )

  /** One try: the network refresh, or the tokens another holder already refreshed. */
  const exchange = async (
    current: TokenSet,
    signal: AbortSignal,
  ): Promise<Outcome> => {
    // Inside the lock (or, without one, just before the call): has another holder done it?
    if (shared) {
      const stored = await reread(current)
      if (!sameTokens(stored, current)) return { stored }
    }
    const next = normalizeTokenResponse(
      await options.refresh({ tokens: current, signal }),
      now(),
      options,
    )
    // RFC 6749 §6: no new refresh token means the old one stays valid.
    if (current.refreshToken) next.refreshToken ??= current.refreshToken
    // Written before the lock is released, so that the next holder reads it.
    const kept = shared ? await store(next, current) : next
    return kept === next ? { next } : { stored: kept }
  }

  /** The flight ends with `outcome` unless it is a failure or the flight is over. */
  const settle = (f: Flight, outcome: Outcome, late?: boolean) => {
    if (flight !== f || 'error' in outcome) return
    // A late answer: the retry under way is not needed any more.
    if (late) f.controller?.abort()
    if ('stored' in outcome) return adopt(outcome.stored)
    const { next } = outcome
    // Load-bearing: commit() settles any flight it finds as superseded (with the new tokens,
    // or sessionEnded() on a sign-out). This one is not superseded: it ends here, with its
    // own answer, after the 'refreshed' event.
    flight = undefined
    void commit(next, null, !shared, true)
    emit('refreshed', { generation, expiresAt: next.expiresAt })
    f.resolve(next)
  }

  const tryRefresh = async (
    f: Flight,
    current: TokenSet,
    signal: AbortSignal,
  ) => {
    // Settles at the deadline even when the refresh ignores its signal, so the lock is
    // released. An answer that arrives later is still the newest while this flight goes
    // on (its backoff, or a retry that has not answered): it is taken (and, shared, it was
    // written by compare-and-set for the next holder).
    const work = () =>
      new Promise<Outcome>((resolve) => {
        signal.addEventListener('abort', () =>
          resolve({ error: signal.reason }),
        )
        exchange(current, signal).then(
          (outcome) =>
            signal.aborted ? settle(f, outcome, true) : resolve(outcome),
          async (error: unknown) => {
            // A dead refresh token: cleared before the lock is released, so that the next
            // holder reads the sign-out instead of refreshing the dead token once more.
            if (shared && toRefreshError(error, isTerminal).terminal)
              await clearIfFailed(current)
            resolve({ error })
          },
        )
      })
    const outcome = await (storage?.lock
      ? storage.lock(work, { signal }).catch((e: unknown) => {
          throw signal.aborted ? signal.reason : storageFailed('lock', e)
        })
      : work())
    if ('error' in outcome) throw outcome.error
    return outcome
  }

  /**
   * A terminal failure: what another holder stored meanwhile lives on; otherwise the shared
   * storage is cleared, but only while it still holds the tokens that failed.
   */
  const clearIfFailed = async (current: TokenSet) => {
    const stored = await reread(current)
    return sameTokens(stored, current) ? store(null, current) : stored
  }

  const run = async (f: Flight, current: TokenSet, wait = 0) => {
    for (let attempt = 0; ; attempt++) {
      if (wait) await new Promise((r) => setTimeout(r, wait))
      if (flight !== f) return
      try {
        return settle(
          f,
          await withDeadline(
            (signal) => tryRefresh(f, current, signal),
            undefined,
            (f.controller = new AbortController()),
          ),
        )
      } catch (e) {
        // Superseded by logout or new tokens: the waiters already have their answer.
        if (flight !== f) return
        const error = toRefreshError(e, isTerminal, refreshTimeoutMs)
        // Not `attempt >= attempts`: a NaN must mean no retry, not endless ones.
        if (!error.retryable || !(attempt < attempts)) {
          if (error.terminal) {
            // A storage that does not answer in time must not keep the session alive.
            const stored = shared
              ? await withDeadline(() => clearIfFailed(current)).catch(
                  () => null,
                )
              : null
            if (flight !== f) return
            // Another holder refreshed or signed in meanwhile: its tokens live on.
            if (stored) return adopt(stored)
            return expire(f, current, error)
          }
          flight = undefined
          update({ status: 'authenticated', error })
          emit('refreshFailed', { error })
          return f.reject(error)
        }
        wait = error.retryAfterMs ?? baseDelayMs * 2 ** attempt
      }
    }
  }

  const start = (current: TokenSet, proactive: boolean, wait = 0) => {
    let resolve!: Flight['resolve']
    let reject!: Flight['reject']
    const promise = new Promise<TokenSet>((res, rej) => {
      resolve = res
      reject = rej
    })
    const f: Flight = { promise, resolve, reject, proactive }
    flight = f
    update({ status: 'refreshing' })
    void run(f, current, wait)
    return f
  }

  // A refresh of tokens whose retry was refused (the refresh before did not help): it waits,
  // twice as long for each such refresh in a row (from 2 × baseDelayMs, at most 30 s),
  // instead of one refresh per request. Any other tokens start over: a sign-in, another
  // holder's, or tokens the server accepted and revoked later, however often.
  const backoff = (current: TokenSet) => {
    if (current !== struck) strikes = 0
    return strikes && Math.min(baseDelayMs * 2 ** strikes, 30_000)
  }

  // The token must be refreshed before use: inside the leeway (0 turns this off, say for
  // an unreliable clock) but at most half its lifetime (a token that lives 5 s is not
  // refreshed on every use), unless kept after a failed early refresh and not expired yet.
  const due = (
    current: TokenSet,
    left = (current.expiresAt ?? Infinity) - now(),
  ) =>
    refreshLeewayMs > 0 &&
    left < Math.min(refreshLeewayMs, ((current.expiresAt ?? 0) - since) / 2) &&
    !(current === keep && left > 0)

  const refresh = (): Promise<TokenSet> =>
    flight
      ? flight.promise
      : hold
        ? hold.flight.promise
        : hydrating
          ? hydrating.then(refresh)
          : tokens
            ? start(tokens, false, backoff(tokens)).promise
            : Promise.reject(sessionEnded())

  // Hydration: a sync storage is read before createSession returns; an async one is
  // awaited by getAccessToken, refresh and login, and loses to any token change made meanwhile.
  try {
    const stored = storage?.get()
    if (stored && 'then' in stored)
      hydrating = new Promise<void>((end) => {
        hydrated = () => {
          hydrating = undefined
          end()
        }
        withDeadline(() => stored, late('get'))
          .then(hydrate)
          .then(
            (next) => void (next && !epoch && commit(next, null, false)),
            (e: unknown) => void (!epoch && storageFailed('get', e)),
          )
          .finally(() => hydrated())
      })
    // No listener yet: this only sets the first snapshot.
    else if ((tokens = hydrate(stored)))
      update({ status: 'authenticated', tokens })
  } catch (e) {
    // Reported once createSession has returned, so that handlers can listen.
    queueMicrotask(() => storageFailed('get', e))
  }

  // Another holder changed the tokens: follow it. A read that started before this holder's
  // own latest change may be stale: it is dropped and the storage read once more.
  const follow = (retries = 1): void => {
    if (hydrating) return void hydrating.then(() => follow(retries))
    const seen = epoch
    read().then(
      (stored) =>
        epoch === seen
          ? // Tokens replacing tokens: another holder's refresh (or its login over a
            // live sign-in: the storage cannot tell). Signing out there (null) moves it.
            adopt(stored, !!stored && !!tokens)
          : retries > 0 && follow(retries - 1),
      (e: unknown) => void storageFailed('get', e),
    )
  }
  try {
    storage?.watch?.(() => follow())
  } catch (e) {
    queueMicrotask(() => storageFailed('watch', e))
  }

  return {
    getSnapshot: () => snapshot,
    subscribe: (listener) => listen('', listener),
    on: listen,
    refresh,

    async getAccessToken() {
      if (hydrating) await hydrating
      const current = tokens
      const f = flight ?? (current && due(current) && start(current, true))
      if (!f) return current?.accessToken ?? null
      try {
        return (await f.promise).accessToken
      } catch (e) {
        // A proactive refresh failed transiently: the current token works until it
        // expires, and is used as is until then (no new round of retries per call).
        // Transiently: a terminal failure or a logout has cleared `tokens` by now.
        if (
          f.proactive &&
          current &&
          current === tokens &&
          (current.expiresAt ?? 0) > now()
        ) {
          keep = current
          return current.accessToken
        }
        throw e
      }
    },

    reportRetry(sent, refused) {
      if (sent !== tokens) return
      if (!refused) {
        strikes = 0
        struck = null
      } else if (struck !== sent) {
        // One strike per token set, however many retries of its burst were refused.
        strikes++
        struck = sent
      }
    },

    peekAccessToken: () =>
      flight || hydrating || !tokens || due(tokens) ? null : tokens.accessToken,

    async setTokens(next) {
      await commit(
        next === null ? null : normalizeTokenResponse(next, now(), options),
      )
    },

    async login(credentials) {
      if (!options.login)
        throw new TokenflightError('createSession has no login option')
      if (hydrating) await hydrating
      const before = epoch
      const body = await options.login(credentials, {
        signal: new AbortController().signal,
      })
      const next = normalizeTokenResponse(body, now(), options)
      // A logout or another token change happened meanwhile: it wins.
      if (epoch !== before)
        throw new SessionExpiredError(
          'Login superseded: another token change (logout, login, setTokens) won',
        )
      await commit(next)
      return next
    },

    async logout() {
      const old = tokens
      const { logout } = options
      const cleared = commit(null)
      emit('loggedOut', { generation })
      // The server-side logout does not wait for the local write.
      await Promise.all([
        cleared,
        old &&
          logout &&
          // Best effort: the local session is gone already; report, never reject.
          withDeadline((signal) => logout({ tokens: old, signal })).catch(
            (cause: unknown) =>
              emit('logoutFailed', {
                error: new TokenflightError('Server-side logout failed', {
                  cause,
                }),
              }),
          ),
      ])
    },
  }
}
