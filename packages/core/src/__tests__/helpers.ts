import { expect } from 'vitest'
import type { SessionOptions, TokenSet, TokenStorage } from '../types'

export { gate } from '@tokenflight/test-utils'

/** Lets queued promise callbacks run. */
export const flush = () => new Promise<void>((r) => setTimeout(r, 0))

/** An Error shaped like an HTTP client's (axios: `response.status`, `response.data`). */
export function httpError(status: number, data?: unknown) {
  return Object.assign(new Error(`Request failed with status ${status}`), {
    response: { status, data },
  })
}

/** A memory storage that records every write. */
export function recordingStorage(initial: TokenSet | null = null) {
  const writes: Array<TokenSet | null> = []
  let value = initial
  const storage: TokenStorage = {
    get: () => value,
    set: (tokens) => {
      writes.push(tokens)
      value = tokens
    },
  }
  return { storage, writes, current: () => value }
}

/** Records each call of an async `refresh` and answers from a script. */
export function scriptedRefresh(
  ...answers: Array<unknown | (() => Promise<unknown>)>
) {
  const calls: Parameters<SessionOptions['refresh']>[0][] = []
  const refresh: SessionOptions['refresh'] = async (ctx) => {
    calls.push(ctx)
    const answer = answers[Math.min(calls.length, answers.length) - 1]
    return typeof answer === 'function'
      ? (answer as () => Promise<unknown>)()
      : answer
  }
  return { refresh, calls }
}

export const fail = (error: unknown) => () => Promise.reject(error)

/** A `Storage` look-alike over a Map, so that a "reload" can reuse it. */
export class FakeStorage {
  readonly #items = new Map<string, string>()
  getItem(key: string) {
    return this.#items.get(key) ?? null
  }
  setItem(key: string, value: string) {
    this.#items.set(key, value)
  }
  removeItem(key: string) {
    this.#items.delete(key)
  }
}

/**
 * Fails when any of `secrets` appears in `value`'s own properties (enumerable or not,
 * symbol keys, message and stack included), recursively. `cause` is followed only when
 * `followCause` is set: a cause thrown by user code is not ours to police.
 */
export function expectNoSecrets(
  value: unknown,
  secrets: string[],
  followCause = false,
  path = 'error',
  seen = new Set<unknown>(),
): void {
  if (typeof value === 'string') {
    for (const secret of secrets)
      expect(value.includes(secret), `${path} holds a token`).toBe(false)
    return
  }
  if (typeof value !== 'object' || value === null || seen.has(value)) return
  seen.add(value)
  // Reflect.ownKeys: enumerable or not, string or symbol keys.
  for (const key of Reflect.ownKeys(value)) {
    if (key === 'cause' && !followCause) continue
    const own = Object.getOwnPropertyDescriptor(value, key)
    expectNoSecrets(
      own?.value,
      secrets,
      followCause,
      `${path}.${String(key)}`,
      seen,
    )
  }
  // `cause` and `stack` may live on the prototype chain in some engines; check them explicitly.
  const { stack, message } = value as { stack?: unknown; message?: unknown }
  expectNoSecrets(stack, secrets, followCause, `${path}.stack`, seen)
  expectNoSecrets(message, secrets, followCause, `${path}.message`, seen)
  if (followCause)
    expectNoSecrets(
      (value as { cause?: unknown }).cause,
      secrets,
      followCause,
      `${path}.cause`,
      seen,
    )
}
