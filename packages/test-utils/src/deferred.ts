// Races made deterministic: a promise the test settles when it chooses, never a sleep.

export type Deferred<T = void> = {
  promise: Promise<T>
  resolve(value: T): void
  reject(reason: unknown): void
}

/** A promise the test settles by hand. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

export type Gate<T = void> = {
  promise: Promise<T>
  open(value: T): void
  fail(reason: unknown): void
}

/** The same, named for what a handler waits at: `open()` lets it through, `fail()` throws there. */
export function gate<T = void>(): Gate<T> {
  const { promise, resolve, reject } = deferred<T>()
  return { promise, open: resolve, fail: reject }
}
