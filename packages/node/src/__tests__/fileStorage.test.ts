import { fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import {
  chmod,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  StorageConflictError,
  StorageError,
  createSession,
} from '@tokenflight/core'
import type { SessionEvents, TokenSet } from '@tokenflight/core'
import { build } from 'esbuild'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LockTimeoutError, TokenFileError, fileStorage } from '../index'

const A = {
  accessToken: 'access-A-secret',
  refreshToken: 'refresh-A-secret',
  expiresAt: 4_102_444_800_000,
  tokenType: 'Bearer',
} satisfies TokenSet
const B: TokenSet = {
  accessToken: 'access-B-secret',
  refreshToken: 'refresh-B-secret',
}
const C: TokenSet = {
  accessToken: 'access-C-secret',
  refreshToken: 'refresh-C-secret',
}

const signal = () => new AbortController().signal

function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** Resolves with how long `listener` took to be called, or rejects after `ms`. */
function nextCall(subscribe: (listener: () => void) => () => void, ms = 1_000) {
  const started = performance.now()
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`no notice within ${ms} ms`))
    }, ms)
    const off = subscribe(() => {
      clearTimeout(timer)
      off()
      resolve(performance.now() - started)
    })
  })
}

const noTokenIn = (error: unknown) => {
  const text = `${String(error)} ${JSON.stringify(error)} ${JSON.stringify(
    Object.entries(error as object),
  )}`
  for (const token of [A, B, C].flatMap((t) => [t.accessToken, t.refreshToken]))
    expect(text).not.toContain(token)
}

let dir: string
let path: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tokenflight-file-'))
  path = join(dir, 'tokens.json')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('fileStorage: the file', () => {
  it('reads null when there is no file, and what was written after', async () => {
    const storage = fileStorage(path)
    expect(await storage.get()).toBeNull()
    await storage.set(A)
    expect(await storage.get()).toEqual(A)
    expect(await fileStorage(path).get()).toEqual(A)
    await storage.set(null)
    expect(await storage.get()).toBeNull()
  })

  it('writes a versioned JSON document, mode 0600, and leaves no temp file or lock behind', async () => {
    const storage = fileStorage(join(dir, 'nested', 'deeper', 'tokens.json'))
    await storage.set(A)
    await storage.set(B)
    const file = join(dir, 'nested', 'deeper', 'tokens.json')
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      tokenflight: 1,
      version: 2,
      tokens: B,
    })
    if (process.platform !== 'win32')
      expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(await readdir(join(dir, 'nested', 'deeper'))).toEqual([
      'tokens.json',
    ])
  })

  it('replaces the file atomically: a reader never sees a partial write', async () => {
    const writer = fileStorage(path)
    const reader = fileStorage(path)
    // Large enough that an in-place write would be seen half done.
    const big = (n: number): TokenSet => ({
      accessToken: `access-${n}-${'x'.repeat(64 * 1024)}`,
      refreshToken: `refresh-${n}`,
    })
    await writer.set(big(0))
    let done = false
    const writing = (async () => {
      for (let n = 1; n <= 40; n++) await writer.set(big(n))
      done = true
    })()
    let reads = 0
    while (!done) {
      const tokens = await reader.get()
      expect(tokens?.accessToken).toMatch(/^access-\d+-x+$/)
      reads++
    }
    await writing
    expect(reads).toBeGreaterThan(0)
  })

  it('makes the folder again when it was removed while in use', async () => {
    const nested = join(dir, 'cache', 'tokens.json')
    const storage = fileStorage(nested)
    await storage.set(A)
    await rm(join(dir, 'cache'), { recursive: true })
    expect(await storage.get()).toBeNull()
    await storage.set(B)
    expect(await storage.get()).toEqual(B)
  })

  it('reads a blank file as no tokens, and writes over it', async () => {
    await writeFile(path, '')
    const storage = fileStorage(path)
    expect(await storage.get()).toBeNull()
    await storage.set(A)
    expect(await storage.get()).toEqual(A)
  })

  it.each([
    [
      'corrupt',
      '{"tokenflight":1,"version":3,"tokens":{"accessToken":"access-A-sec',
    ],
    [
      'foreign',
      '{"access_token":"access-A-secret","refresh_token":"refresh-A-secret"}',
    ],
    [
      'invalid tokens',
      '{"tokenflight":1,"version":3,"tokens":{"accessToken":"access-A-secret","expiresAt":"soon"}}',
    ],
    ['not JSON', 'access-A-secret refresh-A-secret'],
  ])(
    'a %s file: get and set reject with TokenFileError (reason format), the file stays as it was, no token in the error',
    async (_, text) => {
      await writeFile(path, text)
      const storage = fileStorage(path)
      const read = await storage.get().catch((e: unknown) => e)
      expect(read).toBeInstanceOf(TokenFileError)
      expect(read).toBeInstanceOf(StorageError)
      expect(read).toMatchObject({ reason: 'format', path })
      noTokenIn(read)
      const written = await Promise.resolve(storage.set(B)).catch(
        (e: unknown) => e,
      )
      expect(written).toBeInstanceOf(TokenFileError)
      noTokenIn(written)
      expect(await readFile(path, 'utf8')).toBe(text)
      expect(await readdir(dir)).toEqual(['tokens.json'])
    },
  )
})

describe('fileStorage: compare-and-set', () => {
  it('writes while the file still holds the expected tokens', async () => {
    const storage = fileStorage(path)
    await storage.set(null, { expected: null })
    await storage.set(A, { expected: null })
    await storage.set(B, { expected: A })
    expect(await storage.get()).toEqual(B)
  })

  it('rejects with StorageConflictError and writes nothing when another holder wrote first', async () => {
    const mine = fileStorage(path)
    const theirs = fileStorage(path)
    await mine.set(A)
    await theirs.set(B, { expected: A })
    const before = await readFile(path, 'utf8')
    const error = await Promise.resolve(mine.set(C, { expected: A })).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(StorageConflictError)
    noTokenIn(error)
    expect(await readFile(path, 'utf8')).toBe(before)
    // A logout elsewhere is a conflict too.
    await theirs.set(null)
    await expect(mine.set(C, { expected: B })).rejects.toBeInstanceOf(
      StorageConflictError,
    )
    expect(await mine.get()).toBeNull()
  })

  it('compares by sameTokens: expiry and type do not matter', async () => {
    const storage = fileStorage(path)
    await storage.set(A)
    await storage.set(B, {
      expected: { accessToken: A.accessToken, refreshToken: A.refreshToken },
    })
    expect(await storage.get()).toEqual(B)
  })
})

describe('fileStorage: lock', () => {
  it('is exclusive across holders: the second runs after the first released', async () => {
    const one = fileStorage(path)
    const two = fileStorage(path)
    const gate = deferred()
    const entered = deferred()
    const order: string[] = []
    const first = one.lock(
      async () => {
        order.push('one in')
        entered.resolve()
        await gate.promise
        order.push('one out')
      },
      { signal: signal() },
    )
    await entered.promise
    const second = two.lock(
      async () => {
        order.push('two in')
      },
      { signal: signal() },
    )
    // Give the second holder many polls: it must still wait.
    await new Promise((r) => setTimeout(r, 150))
    expect(order).toEqual(['one in'])
    gate.resolve()
    await Promise.all([first, second])
    expect(order).toEqual(['one in', 'one out', 'two in'])
    expect(existsSync(`${path}.lock`)).toBe(false)
  })

  it('is exclusive within one storage object too (two sessions of one process)', async () => {
    const storage = fileStorage(path)
    let active = 0
    let most = 0
    await Promise.all(
      Array.from({ length: 5 }, () =>
        storage.lock(
          async () => {
            most = Math.max(most, ++active)
            await new Promise((r) => setTimeout(r, 5))
            active--
          },
          { signal: signal() },
        ),
      ),
    )
    expect(most).toBe(1)
  })

  it('returns what the work returns, rejects with what it throws, and releases either way', async () => {
    const storage = fileStorage(path)
    expect(await storage.lock(async () => 42, { signal: signal() })).toBe(42)
    const failure = new Error('work failed')
    await expect(
      storage.lock(
        async () => {
          throw failure
        },
        { signal: signal() },
      ),
    ).rejects.toBe(failure)
    expect(existsSync(`${path}.lock`)).toBe(false)
  })

  it('rejects with the signal reason when it aborts while waiting, without running the work', async () => {
    const holder = fileStorage(path)
    const waiter = fileStorage(path)
    const gate = deferred()
    const entered = deferred()
    const held = holder.lock(
      async () => {
        entered.resolve()
        await gate.promise
      },
      { signal: signal() },
    )
    await entered.promise
    const controller = new AbortController()
    let ran = false
    const waiting = waiter.lock(
      async () => {
        ran = true
      },
      { signal: controller.signal },
    )
    const reason = new Error('deadline')
    controller.abort(reason)
    await expect(waiting).rejects.toBe(reason)
    gate.resolve()
    await held
    expect(ran).toBe(false)
    // Nothing left behind: the next holder gets the lock at once.
    await waiter.lock(async () => {}, { signal: AbortSignal.timeout(1_000) })
  })

  it('writes inside the lock without taking it again', async () => {
    const storage = fileStorage(path)
    await storage.set(A)
    await storage.lock(
      async () => {
        expect(await storage.get()).toEqual(A)
        await storage.set(B, { expected: A })
      },
      { signal: AbortSignal.timeout(2_000) },
    )
    expect(await storage.get()).toEqual(B)
  })

  it('a write outside the lock waits for the holder, so it never lands between its check and its write', async () => {
    const holder = fileStorage(path)
    const other = fileStorage(path)
    await holder.set(A)
    const gate = deferred()
    const entered = deferred()
    const held = holder.lock(
      async () => {
        const current = await holder.get()
        entered.resolve()
        await gate.promise
        await holder.set(B, { expected: current })
      },
      { signal: signal() },
    )
    await entered.promise
    let loggedOut = false
    const logout = Promise.resolve(other.set(null)).then(() => {
      loggedOut = true
    })
    await new Promise((r) => setTimeout(r, 100))
    expect(loggedOut).toBe(false)
    gate.resolve()
    await Promise.all([held, logout])
    // The logout came last: it wins.
    expect(await other.get()).toBeNull()
  })

  it('a write that cannot get the lock within lockWaitMs fails with LockTimeoutError', async () => {
    const holder = fileStorage(path)
    const other = fileStorage(path, { lockWaitMs: 100 })
    const gate = deferred()
    const entered = deferred()
    const held = holder.lock(
      async () => {
        entered.resolve()
        await gate.promise
      },
      { signal: signal() },
    )
    await entered.promise
    const error = await Promise.resolve(other.set(A)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockTimeoutError)
    expect(error).toBeInstanceOf(StorageError)
    gate.resolve()
    await held
    expect(await other.get()).toBeNull()
  })

  it('takes over a lock whose holder died (not refreshed for staleMs)', async () => {
    await mkdir(`${path}.lock`)
    const old = new Date(Date.now() - 60_000)
    await utimes(`${path}.lock`, old, old)
    const storage = fileStorage(path, { staleMs: 2_000 })
    expect(
      await storage.lock(async () => 'mine', {
        signal: AbortSignal.timeout(1_000),
      }),
    ).toBe('mine')
  })

  it('waits for a fresh lock of another process rather than taking it over', async () => {
    await mkdir(`${path}.lock`)
    const storage = fileStorage(path, { staleMs: 2_000 })
    const started = Date.now()
    // Nobody refreshes this lock: it turns stale 2 s after it was made.
    await storage.lock(async () => {}, {
      signal: AbortSignal.timeout(5_000),
    })
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900)
  })

  it('a stale lock that another waiter is taking over is left to it: no second holder', async () => {
    // Another process is inside its takeover (it holds the takeover folder) of a stale lock.
    await mkdir(`${path}.lock`)
    const old = new Date(Date.now() - 60_000)
    await utimes(`${path}.lock`, old, old)
    await mkdir(`${path}.lock.takeover`)
    const storage = fileStorage(path, { staleMs: 2_000 })
    let ran = false
    const waiting = storage.lock(
      async () => {
        ran = true
      },
      { signal: AbortSignal.timeout(5_000) },
    )
    await new Promise((r) => setTimeout(r, 100))
    expect(ran).toBe(false)
    // It completes its takeover: the lock is fresh (its own), the takeover folder gone.
    // (Refreshed in place: removing and making it again would leave a moment when the lock
    // is free, and taking a free lock is fair.)
    const now = new Date()
    await utimes(`${path}.lock`, now, now)
    await rm(`${path}.lock.takeover`, { recursive: true })
    await new Promise((r) => setTimeout(r, 200))
    expect(ran).toBe(false)
    // It releases: now the waiter gets the lock.
    await rm(`${path}.lock`, { recursive: true })
    await waiting
    expect(ran).toBe(true)
  })

  it('many waiters on one stale lock: exactly one takes it over at a time', async () => {
    for (let round = 0; round < 5; round++) {
      await mkdir(`${path}.lock`)
      const old = new Date(Date.now() - 60_000)
      await utimes(`${path}.lock`, old, old)
      let active = 0
      let most = 0
      const holders = Array.from({ length: 8 }, () =>
        fileStorage(path, { staleMs: 2_000 }),
      )
      await Promise.all(
        holders.map((storage) =>
          storage.lock(
            async () => {
              most = Math.max(most, ++active)
              await new Promise((r) => setTimeout(r, 20))
              active--
            },
            { signal: AbortSignal.timeout(5_000) },
          ),
        ),
      )
      expect(most).toBe(1)
      expect(existsSync(`${path}.lock`)).toBe(false)
      expect(existsSync(`${path}.lock.takeover`)).toBe(false)
    }
  })
})

describe('fileStorage: watch', () => {
  it("notices another holder's write within a second, and not its own writes", async () => {
    const mine = fileStorage(path)
    const theirs = fileStorage(path)
    let notices = 0
    const off = mine.watch(() => notices++)
    await mine.set(A)
    await mine.set(B)
    const noticed = nextCall(mine.watch)
    await theirs.set(C)
    expect(await noticed).toBeLessThan(1_000)
    expect(await mine.get()).toEqual(C)
    // Our own writes: settle both watchers, then count.
    await mine.set(A)
    await new Promise((r) => setTimeout(r, 700))
    off()
    expect(notices).toBe(1)
  })

  it('never notifies for its own writes, 40 back to back', async () => {
    const mine = fileStorage(path)
    let notices = 0
    const off = mine.watch(() => notices++)
    for (let n = 0; n < 40; n++)
      await mine.set({
        accessToken: `access-${n}`,
        refreshToken: `refresh-${n}`,
      })
    await new Promise((r) => setTimeout(r, 700))
    off()
    expect(notices).toBe(0)
  })

  it('notices a logout (null) and a deleted file', async () => {
    const mine = fileStorage(path)
    const theirs = fileStorage(path)
    await theirs.set(A)
    let noticed = nextCall(mine.watch)
    await theirs.set(null)
    await noticed
    await theirs.set(A)
    noticed = nextCall(mine.watch)
    await rm(path)
    await noticed
    expect(await mine.get()).toBeNull()
  })

  it('falls back to polling where fs.watch cannot watch (the folder did not exist yet)', async () => {
    const later = join(dir, 'created-later', 'tokens.json')
    const mine = fileStorage(later, { pollIntervalMs: 100 })
    const noticed = nextCall(mine.watch)
    await fileStorage(later).set(A)
    expect(await noticed).toBeLessThan(1_000)
  })

  it('stops watching when the last listener leaves', async () => {
    const mine = fileStorage(path)
    let notices = 0
    const off = mine.watch(() => notices++)
    off()
    await fileStorage(path).set(A)
    await new Promise((r) => setTimeout(r, 700))
    expect(notices).toBe(0)
  })
})

describe('fileStorage: what a session makes of its failures', () => {
  it('a foreign file: storageError on start and on writes, the session carries on from memory, the file is untouched', async () => {
    await writeFile(path, '{"access_token":"access-A-secret"}')
    const errors: Array<SessionEvents['storageError']> = []
    const session = createSession({
      refresh: async () => B,
      storage: fileStorage(path),
    })
    session.on('storageError', (e) => errors.push(e))
    expect(await session.getAccessToken()).toBeNull()
    await session.setTokens(C)
    expect(await session.getAccessToken()).toBe(C.accessToken)
    expect(errors.map((e) => [e.operation, e.error.cause])).toEqual([
      ['get', expect.any(TokenFileError)],
      ['set', expect.any(TokenFileError)],
    ])
    for (const e of errors) noTokenIn(e.error)
    expect(await readFile(path, 'utf8')).toBe(
      '{"access_token":"access-A-secret"}',
    )
  })

  it('a lock that cannot be had within refreshTimeoutMs: a typed, transient refresh failure', async () => {
    await fileStorage(path).set(A)
    // Another process holds the lock and keeps it fresh for longer than the refresh may wait.
    await mkdir(`${path}.lock`)
    let calls = 0
    const session = createSession({
      refresh: async () => (calls++, B),
      storage: fileStorage(path, { staleMs: 10_000 }),
      refreshTimeoutMs: 200,
      retry: { attempts: 0, baseDelayMs: 0 },
    })
    expect(await session.getAccessToken()).toBe(A.accessToken)
    const error = await session.refresh().catch((e: unknown) => e)
    expect(error).toMatchObject({
      name: 'RefreshTimeoutError',
      terminal: false,
    })
    expect(calls).toBe(0)
    expect(session.getSnapshot()).toMatchObject({
      status: 'authenticated',
      tokens: A,
    })
  })
})

// Root ignores file permissions: the read-only folder is tried by an unprivileged child,
// from a bundle in a folder it can read (the checkout may be private to root).
const readOnlyScript = fileURLToPath(
  new URL('./fixtures/readOnly.ts', import.meta.url),
)
async function bundleForAnyone(entry: string) {
  const out = await mkdtemp(join(tmpdir(), 'tokenflight-fixture-'))
  await chmod(out, 0o755)
  const outfile = join(out, 'fixture.cjs')
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    conditions: ['@tokenflight/source'],
    logLevel: 'error',
  })
  return { outfile, remove: () => rm(out, { recursive: true, force: true }) }
}

describe('fileStorage: a read-only folder', () => {
  it('get works, set and lock reject with TokenFileError (reason io), nothing is written, nothing crashes', async () => {
    await fileStorage(path).set(A)
    await chmod(dir, 0o555)
    await chmod(path, 0o644)
    const asRoot = process.getuid?.() === 0
    const fixture = await bundleForAnyone(readOnlyScript)
    const child = fork(fixture.outfile, [path], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    })
    try {
      const result = await new Promise<Record<string, unknown>>(
        (resolve, reject) => {
          child.once('message', (m) => resolve(m as Record<string, unknown>))
          child.once('exit', (code) => reject(new Error(`exit ${code}`)))
        },
      )
      expect(result).toEqual({
        get: A,
        set: { name: 'TokenFileError', reason: 'io', storageError: true },
        lock: { name: 'TokenFileError', reason: 'io', storageError: true },
        leaked: false,
      })
    } finally {
      child.kill('SIGKILL')
      await chmod(dir, 0o755)
      await fixture.remove()
    }
    expect(await readdir(dir)).toEqual(['tokens.json'])
    expect(await fileStorage(path).get()).toEqual(A)
  }, 20_000)
})
