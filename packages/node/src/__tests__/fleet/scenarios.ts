// What every shared storage must do across real processes; run by the multi-process tests
// of @tokenflight/node (fileStorage) and @tokenflight/redis (redisStorage).
import { expect } from 'vitest'
import { tally, type Fleet, type FleetWorker } from './fleet'

export const PROCESSES = 8
export const CYCLES = 3
export const REQUESTS = 10

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

/** Every error any process reported so far (crashes first: a crash is always a bug). */
export function problems(fleet: Fleet) {
  return fleet.workers.flatMap((w) =>
    w.crashes.map((c) => `crash ${w.id}: ${c}`),
  )
}

/** One expiry cycle: the server expires every access token, then every process sends `n` at once. */
export async function expiryCycle(fleet: Fleet, n = REQUESTS) {
  const refreshes = fleet.server.stats.refreshes
  fleet.server.expireAccessTokens()
  const result = tally(await fleet.burst(n))
  return { ...result, refreshes: fleet.server.stats.refreshes - refreshes }
}

/** 8 processes × 3 expiry cycles × 10 concurrent requests → 3 refreshes, 0 reuse, 240/240. */
export async function expiryCycles(fleet: Fleet) {
  const perCycle: number[] = []
  let served = 0
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const result = await expiryCycle(fleet)
    expect(result.errors).toEqual([])
    perCycle.push(result.refreshes)
    served += result.served
  }
  expect(perCycle).toEqual([1, 1, 1])
  expect(served).toBe(PROCESSES * CYCLES * REQUESTS)
  expect(fleet.server.stats).toMatchObject({
    refreshes: CYCLES,
    failedRefreshes: 0,
    reuseDetections: 0,
    served: PROCESSES * CYCLES * REQUESTS,
  })
  expect(problems(fleet)).toEqual([])
}

/**
 * Proactive refresh: every process inside the leeway at once (their clocks move past
 * expiresAt − leeway together, the tokens still valid at the server) → one refresh per
 * cycle, no 401 at all.
 */
export async function proactiveCycles(fleet: Fleet, stepMs: number) {
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const refreshes = fleet.server.stats.refreshes
    const unauthorized = fleet.server.stats.unauthorized
    await fleet.skew(cycle * stepMs)
    const result = tally(await fleet.burst(REQUESTS))
    expect(result.errors).toEqual([])
    expect(result.served).toBe(PROCESSES * REQUESTS)
    expect(fleet.server.stats.refreshes - refreshes).toBe(1)
    expect(fleet.server.stats.unauthorized - unauthorized).toBe(0)
  }
  expect(fleet.server.stats.reuseDetections).toBe(0)
  expect(problems(fleet)).toEqual([])
}

/**
 * The process holding the lock is SIGKILLed while its refresh is held at the server: the
 * others are served within refreshTimeoutMs + the stale-lock time, nobody replays a token,
 * and the next cycle is not held up by anything the dead process left.
 */
export async function killLockHolder(
  fleet: Fleet,
  {
    refreshTimeoutMs,
    staleMs,
    leftovers,
  }: {
    refreshTimeoutMs: number
    staleMs: number
    /** What the storage still holds of any lock (lock file, Redis key…): must end up empty. */
    leftovers: () => Promise<string[]>
  },
) {
  const gate = deferred()
  try {
    fleet.server.inject({
      endpoint: 'refresh',
      kind: 'gate',
      until: gate.promise,
    })
    fleet.server.expireAccessTokens()
    const arrived = fleet.nextRefresh()
    const bursts = fleet.alive().map((worker) =>
      fleet.burst(REQUESTS, [worker]).then(
        ([result]) => ({ worker, result }),
        () => ({ worker, result: undefined }),
      ),
    )
    const holder: FleetWorker = await arrived
    const killedAt = performance.now()
    await fleet.kill(holder)
    const others = (await Promise.all(bursts)).filter(
      (b) => b.worker !== holder,
    )
    const waited = performance.now() - killedAt
    expect(others).toHaveLength(PROCESSES - 1)
    expect(others.flatMap((b) => b.result?.errors ?? ['no answer'])).toEqual([])
    expect(others.reduce((sum, b) => sum + (b.result?.served ?? 0), 0)).toBe(
      (PROCESSES - 1) * REQUESTS,
    )
    expect(waited).toBeLessThan(refreshTimeoutMs + staleMs)
    // The dead holder's refresh never ran (its connection closed while held); one other did.
    expect(fleet.server.stats).toMatchObject({
      refreshes: 1,
      reuseDetections: 0,
    })

    // Nothing left behind blocks the next cycle: the dead holder's lock was taken over and
    // released, and the next cycle runs as usual.
    await expect.poll(leftovers, { timeout: 1_000, interval: 20 }).toEqual([])
    const next = await expiryCycle(fleet)
    expect(next.errors).toEqual([])
    expect(next.served).toBe((PROCESSES - 1) * REQUESTS)
    expect(next.refreshes).toBe(1)
    expect(fleet.server.stats.reuseDetections).toBe(0)
    expect(problems(fleet)).toEqual([])
    return { waited }
  } finally {
    gate.resolve()
  }
}

/**
 * A logout in one process: every other one follows within a second (signed out, without
 * a network call), and nobody refreshes with the dead token afterwards.
 */
export async function logoutInOne(fleet: Fleet) {
  const [leaving, ...others] = fleet.alive()
  const loggedOutAt = performance.now()
  await fleet.logout(leaving!)
  // Each of the others adopts "signed out" from the storage.
  const deadline = loggedOutAt + 5_000
  const signedOut = (w: FleetWorker) =>
    w.events.find((e) => e.event === 'adopted' && e.signedIn === false)
  while (!others.every(signedOut) && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 10))
  const latest = Math.max(...others.map((w) => signedOut(w)?.at ?? Infinity))
  expect(latest - loggedOutAt).toBeLessThan(1_000)
  for (const snapshot of await fleet.snapshots(others))
    expect(snapshot.status).toBe('anonymous')

  const before = { ...fleet.server.stats }
  fleet.server.expireAccessTokens()
  const result = tally(await fleet.burst(REQUESTS, others))
  expect(result.served).toBe(0)
  // No refresh reached the server, let alone one with the revoked token.
  expect(fleet.server.stats.refreshes).toBe(before.refreshes)
  expect(fleet.server.stats.failedRefreshes).toBe(before.failedRefreshes)
  expect(fleet.server.stats.reuseDetections).toBe(0)
  expect(problems(fleet)).toEqual([])
}
