// holdForLogin (issue 15): requests waiting for a refresh that fails terminally are held for a
// sign-in of the same user, then retried once; another user, a logout or the deadline rejects
// them with the failure that held them. Deterministic: gates and an injected clock, and fake
// timers for setTimeout only where the deadline is the subject.
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  RefreshError,
  TokenflightError,
  createSession,
  renewForRetry,
} from '../index'
import type { Session, SessionOptions, TokenSet } from '../index'
import { flush, gate, httpError } from './helpers'
import { sharedMedium } from './sharedMedium'

/** An unsigned JWT-shaped token for `sub`: the session reads claims, never a signature. */
const jwt = (sub: string, n: number) =>
  `${btoa('{"alg":"none"}')}.${btoa(JSON.stringify({ sub, n }))}.`
const tokensOf = (sub: string, n: number): TokenSet => ({
  accessToken: jwt(sub, n),
  refreshToken: `${sub}-refresh-${n}`,
})
const dead = () => httpError(400, { error: 'invalid_grant' })

const HOLD = 60_000
const T0 = 1_000_000

/** A session signed in as alice whose refresh fails terminally; `login` signs in `as`. */
function heldSession(options: Partial<SessionOptions> = {}) {
  let as = 'alice'
  let n = 1
  const refreshes: string[] = []
  const session = createSession({
    refresh: async ({ tokens }) => {
      refreshes.push(tokens.refreshToken ?? '')
      throw dead()
    },
    login: async () => tokensOf(as, ++n),
    retry: { attempts: 0, baseDelayMs: 1 },
    refreshLeewayMs: 0,
    holdForLogin: { timeoutMs: HOLD },
    now: () => T0,
    ...options,
  })
  const events: Record<string, unknown[]> = {}
  for (const name of ['expired', 'refreshFailed'] as const)
    session.on(name, (e) => (events[name] ??= []).push(e))
  return {
    session,
    events,
    refreshes,
    signInAs: (user: string) => {
      as = user
    },
  }
}

/** Settles-or-not of each promise, without waiting for the pending ones. */
async function states(promises: Promise<unknown>[]) {
  const seen = promises.map(() => 'pending' as string)
  promises.forEach((p, i) =>
    p.then(
      () => (seen[i] = 'resolved'),
      () => (seen[i] = 'rejected'),
    ),
  )
  await flush()
  return seen
}

afterEach(() => {
  vi.useRealTimers()
})

describe('holdForLogin', () => {
  it('holds the waiters of a terminal failure until the same user signs in, then gives them the new tokens', async () => {
    const { session, events, refreshes } = heldSession()
    await session.setTokens(tokensOf('alice', 1))
    const { identity } = session.getSnapshot()
    const waiters = [session.refresh(), session.refresh(), session.refresh()]
    expect(await states(waiters)).toEqual(['pending', 'pending', 'pending'])
    expect(session.getSnapshot()).toMatchObject({
      status: 'expired',
      tokens: null,
      heldUntil: T0 + HOLD,
    })
    expect(events.expired).toHaveLength(1)
    // refresh() during the hold joins it: no second call to a dead refresh token.
    const late = session.refresh()
    await session.login({})
    const fresh = session.getSnapshot().tokens!
    for (const tokens of await Promise.all([...waiters, late]))
      expect(tokens).toBe(fresh)
    expect(session.getSnapshot()).toMatchObject({
      status: 'authenticated',
      identity,
      heldUntil: null,
    })
    expect(refreshes).toEqual(['alice-refresh-1'])
  })

  it('another user signing in rejects them with the failure that held them, and the identity moves', async () => {
    const { session, events, signInAs } = heldSession()
    await session.setTokens(tokensOf('alice', 1))
    const { identity } = session.getSnapshot()
    const waiting = session.refresh()
    await flush()
    signInAs('mallory')
    await session.login({})
    const error = await waiting.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RefreshError)
    expect(error).toBe((events.expired![0] as { error: unknown }).error)
    expect(error).toMatchObject({ terminal: true })
    expect(session.getSnapshot().identity).not.toBe(identity)
    expect(session.getSnapshot().heldUntil).toBeNull()
  })

  it.each([
    ['logout()', (s: Session) => s.logout()],
    ['setTokens(null)', (s: Session) => s.setTokens(null)],
  ])('%s rejects them with the failure', async (_, end) => {
    const { session } = heldSession()
    await session.setTokens(tokensOf('alice', 1))
    const waiting = session.refresh()
    await flush()
    expect(session.getSnapshot().heldUntil).toBe(T0 + HOLD)
    await end(session)
    await expect(waiting).rejects.toMatchObject({
      name: 'RefreshError',
      terminal: true,
    })
    expect(session.getSnapshot()).toMatchObject({
      status: 'anonymous',
      heldUntil: null,
    })
  })

  it('setTokens() with the same user resumes them, as login() does', async () => {
    const { session } = heldSession()
    await session.setTokens(tokensOf('alice', 1))
    const waiting = session.refresh()
    await flush()
    await session.setTokens(tokensOf('alice', 9))
    await expect(waiting).resolves.toMatchObject({
      accessToken: jwt('alice', 9),
    })
  })

  it('the deadline rejects them with the failure; a sign-in after it resumes nothing', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { session } = heldSession()
    await session.setTokens(tokensOf('alice', 1))
    let outcome: unknown = 'pending'
    session.refresh().catch((e: unknown) => (outcome = e))
    // flush() runs on setTimeout, faked here: advancing the clock drains the promises.
    await vi.advanceTimersByTimeAsync(HOLD - 1)
    expect(outcome).toBe('pending')
    expect(session.getSnapshot().heldUntil).toBe(T0 + HOLD)
    await vi.advanceTimersByTimeAsync(1)
    expect(outcome).toMatchObject({ name: 'RefreshError', terminal: true })
    expect(session.getSnapshot()).toMatchObject({
      status: 'expired',
      heldUntil: null,
    })
    const { identity } = session.getSnapshot()
    await session.login({})
    // A sign-in after the deadline is a new sign-in: requests sent before it are not retried.
    expect(session.getSnapshot().identity).not.toBe(identity)
  })

  it('holds nothing when the user cannot be told: opaque tokens and no `user`', async () => {
    const { session } = heldSession()
    await session.setTokens({ accessToken: 'opaque', refreshToken: 'r' })
    await expect(session.refresh()).rejects.toMatchObject({ terminal: true })
    expect(session.getSnapshot().heldUntil).toBeNull()
  })

  it('takes the user from `user` when given, and holds nothing when it throws', async () => {
    const byRefresh = heldSession({
      holdForLogin: {
        timeoutMs: HOLD,
        user: (t) => t.refreshToken?.split('-')[0],
      },
    })
    await byRefresh.session.setTokens({
      accessToken: 'opaque',
      refreshToken: 'bob-1',
    })
    const waiting = byRefresh.session.refresh()
    await flush()
    await byRefresh.session.setTokens({
      accessToken: 'opaque-2',
      refreshToken: 'bob-2',
    })
    await expect(waiting).resolves.toMatchObject({ accessToken: 'opaque-2' })

    const throwing = heldSession({
      holdForLogin: {
        timeoutMs: HOLD,
        user: () => {
          throw new Error('no user here')
        },
      },
    })
    await throwing.session.setTokens(tokensOf('alice', 1))
    await expect(throwing.session.refresh()).rejects.toMatchObject({
      terminal: true,
    })
  })

  it('a transient failure is never held', async () => {
    const { session } = heldSession({
      refresh: async () => {
        throw httpError(503)
      },
    })
    await session.setTokens(tokensOf('alice', 1))
    await expect(session.refresh()).rejects.toMatchObject({
      terminal: false,
    })
    expect(session.getSnapshot()).toMatchObject({
      status: 'authenticated',
      heldUntil: null,
    })
  })

  it.each([0, -1, NaN, Infinity, 2 ** 31, '5000' as unknown as number])(
    'refuses timeoutMs %s at once, naming it',
    (timeoutMs) => {
      expect(() =>
        createSession({
          refresh: async () => ({}),
          holdForLogin: { timeoutMs },
        }),
      ).toThrow(TokenflightError)
      expect(() =>
        createSession({
          refresh: async () => ({}),
          holdForLogin: { timeoutMs },
        }),
      ).toThrow(`holdForLogin.timeoutMs is ${String(timeoutMs)}`)
    },
  )
})

describe('renewForRetry under a hold', () => {
  it('a late 401 of the held identity waits for the sign-in; one sent under another identity is refused', async () => {
    const { session } = heldSession()
    await session.setTokens(tokensOf('alice', 1))
    const sentAsAlice = session.getSnapshot()
    await expect(
      // The first request's 401 starts the refresh that fails: held.
      Promise.race([
        renewForRetry(session, sentAsAlice, (p) => p),
        flush().then(() => 'held'),
      ]),
    ).resolves.toBe('held')
    // A request sent with alice's token before the failure gets its 401 now: held too.
    const late = renewForRetry(session, sentAsAlice, (p) => p)
    expect(await states([late])).toEqual(['pending'])
    await session.login({})
    await expect(late).resolves.toBe(session.getSnapshot().tokens)
  })

  it('after a hold that ended in another user, a request of the old identity is never re-sent', async () => {
    const { session, signInAs } = heldSession()
    await session.setTokens(tokensOf('alice', 1))
    const sentAsAlice = session.getSnapshot()
    const first = renewForRetry(session, sentAsAlice, (p) => p)
    await flush()
    signInAs('mallory')
    await session.login({})
    await expect(first).rejects.toMatchObject({ terminal: true })
    await expect(
      renewForRetry(session, sentAsAlice, (p) => p),
    ).rejects.toMatchObject({ name: 'SessionExpiredError' })
  })
})

describe('holdForLogin across holders of a shared storage', () => {
  it('a holder that waited for the lock while another failed terminally holds too, and resumes on the sign-in made there', async () => {
    const medium = sharedMedium(tokensOf('alice', 1))
    const answer = gate()
    const calls: string[] = []
    const options = {
      retry: { attempts: 0, baseDelayMs: 1 },
      refreshLeewayMs: 0,
      holdForLogin: { timeoutMs: HOLD },
      now: () => T0,
    }
    const a = createSession({
      ...options,
      storage: medium.holder(),
      refresh: async ({ tokens }) => {
        calls.push(tokens.refreshToken!)
        await answer.promise
        throw dead()
      },
      login: async () => tokensOf('alice', 2),
    })
    const b = createSession({
      ...options,
      storage: medium.holder(),
      refresh: async ({ tokens }) => {
        calls.push(tokens.refreshToken!)
        throw dead()
      },
    })
    await Promise.all([a.getAccessToken(), b.getAccessToken()])
    const inA = a.refresh()
    await flush()
    // b's refresh queues behind a's lock.
    const inB = b.refresh()
    await flush()
    expect(medium.waiting).toBe(1)
    answer.open()
    await vi.waitFor(() =>
      expect(b.getSnapshot()).toMatchObject({
        status: 'expired',
        heldUntil: T0 + HOLD,
      }),
    )
    expect(a.getSnapshot().heldUntil).toBe(T0 + HOLD)
    expect(await states([inA, inB])).toEqual(['pending', 'pending'])
    // The user signs in again in a; b follows through the storage and its waiters go on.
    await a.login({})
    const fresh = await inB
    expect(fresh.accessToken).toBe(jwt('alice', 2))
    await expect(inA).resolves.toMatchObject({ accessToken: jwt('alice', 2) })
    expect(calls).toEqual(['alice-refresh-1'])
  })
})
