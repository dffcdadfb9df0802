import { setImmediate as nextMacrotask } from 'node:timers/promises'

export { deferred, type Deferred } from '@tokenflight/test-utils'

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Lets every queued microtask and I/O callback run (several event-loop turns). */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await nextMacrotask()
}

/** Polls `condition` once per event-loop turn; throws after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline)
      throw new Error(
        `bench: timed out after ${timeoutMs} ms waiting for ${what}`,
      )
    await nextMacrotask()
  }
}

const gc = (globalThis as { gc?: () => void }).gc

export function hasGc(): boolean {
  return gc !== undefined
}

/** Heap in use after two full collections (the second one catches finalizer leftovers). */
export async function heapUsedAfterGc(): Promise<number> {
  await settle()
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}

/** Rotates `items` by `shift` so that every contender takes every position across runs. */
export function rotate<T>(items: readonly T[], shift: number): T[] {
  const k = shift % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

export const fmt = {
  int: (n: number) =>
    Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–',
  ms: (n: number) =>
    Number.isFinite(n) ? `${n.toFixed(n < 10 ? 2 : 1)} ms` : '–',
  ratio: (n: number) => (Number.isFinite(n) ? `${n.toFixed(3)}×` : '–'),
  bytes: (n: number) =>
    Number.isFinite(n) ? `${Math.round(n).toLocaleString('en-US')} B` : '–',
  kb: (n: number) => (Number.isFinite(n) ? `${(n / 1000).toFixed(2)} kB` : '–'),
}

/** Where the cases report each measurement as it finishes (run.ts prints them). */
export const progress = { log: (_line: string): void => {} }

/** A small seeded PRNG (mulberry32), so that a run's order can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A shuffled copy (Fisher–Yates). */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}
