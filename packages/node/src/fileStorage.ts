import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import {
  StorageConflictError,
  normalizeTokenResponse,
  sameTokens,
} from '@tokenflight/core'
import type {
  StorageLockContext,
  StorageSetOptions,
  TokenSet,
} from '@tokenflight/core'
import lockfile from 'proper-lockfile'
import { LockTimeoutError, TokenFileError } from './errors'

/** A TokenStorage shared through a file: every method is there and async. */
export type FileStorage = {
  get(): Promise<TokenSet | null>
  set(tokens: TokenSet | null, options?: StorageSetOptions): Promise<void>
  lock<T>(work: () => Promise<T>, ctx: StorageLockContext): Promise<T>
  watch(onChange: () => void): () => void
}

export type FileStorageOptions = {
  /**
   * A lock file not refreshed for this long belongs to a dead process and is taken over.
   * A live holder refreshes it every `staleMs / 2` (at least every second). Default 5_000;
   * proper-lockfile's floor is 2_000. Keep it below the session's `refreshTimeoutMs`, so
   * that a waiter takes over a dead holder's lock within one refresh attempt.
   */
  staleMs?: number
  /**
   * How long a write outside `lock` (login, logout, setTokens) waits for the lock file
   * before it fails with a `LockTimeoutError`. Default 15_000.
   */
  lockWaitMs?: number
  /**
   * `watch` polls the file this often besides `fs.watch`, for file systems where
   * `fs.watch` sees no other machine's writes (NFS, SMB, some containers). Default 500.
   */
  pollIntervalMs?: number
}

/** What the file holds. `version` moves on every write; `tokens` is null after a logout. */
type Stored = { version: number; tokens: TokenSet | null }

const FORMAT = 1
// Lock polling: short first (a refresh holds the lock for one network call), then capped.
const FIRST_POLL_MS = 2
const MAX_POLL_MS = 25

const noop = () => {}
const errorCode = (e: unknown) =>
  (e as { code?: unknown } | null)?.code as string | undefined

/**
 * Keeps the tokens in a JSON file that every process on the machine shares: one refresh
 * per expiry however many processes use it. Writes are atomic (a temp file in the same
 * folder, fsync, rename) and private (mode 0600); `lock` is a lock file (proper-lockfile,
 * taken over when its holder died); `set(tokens, { expected })` checks and writes under
 * that lock; `watch` follows other processes' writes through `fs.watch` and polling.
 */
export function fileStorage(
  path: string,
  options: FileStorageOptions = {},
): FileStorage {
  const file = resolve(path)
  const dir = dirname(file)
  const base = basename(file)
  const lockPath = `${file}.lock`
  const takeoverPath = `${file}.lock.takeover`
  const staleMs = Math.max(options.staleMs ?? 5_000, 2_000)
  const lockWaitMs = options.lockWaitMs ?? 15_000
  const pollIntervalMs = options.pollIntervalMs ?? 500

  // This object holds the lock file: its writes need not take it again.
  let held = false
  // One lock holder per storage object at a time; the file lock does the rest.
  let tail: Promise<void> = Promise.resolve()
  // Writes of this process, in order.
  let writes: Promise<unknown> = Promise.resolve()
  // The file's text as this holder last wrote or noticed it: `watch` fires when it differs.
  let seen: string | undefined
  // A read that overlaps this holder's own write may return the text from before it: the
  // watcher reads again after the write rather than take that for another holder's change.
  let writing = false
  let writeCount = 0
  let dirReady: Promise<void> | undefined

  const ioError = (what: string, target: string, cause: unknown) =>
    new TokenFileError(
      `Cannot ${what} ${target} (${errorCode(cause) ?? 'unknown error'})`,
      { path: target, reason: 'io', cause },
    )

  const parse = (text: string): Stored => {
    // A blank file (say, made by `touch`) holds no tokens yet.
    if (text.trim() === '') return { version: 0, tokens: null }
    const foreign = () =>
      new TokenFileError(
        `${file} is not a tokenflight token file; fileStorage neither reads nor overwrites it (delete it to start over)`,
        { path: file, reason: 'format' },
      )
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch {
      // No cause: a SyntaxError quotes the text, which may hold a token.
      throw foreign()
    }
    const { tokenflight, version, tokens } = (data ?? {}) as Record<
      string,
      unknown
    >
    if (
      tokenflight !== FORMAT ||
      !Number.isSafeInteger(version) ||
      (version as number) < 0
    )
      throw foreign()
    if (tokens === null) return { version: version as number, tokens: null }
    try {
      return {
        version: version as number,
        tokens: normalizeTokenResponse(tokens),
      }
    } catch (cause) {
      // InvalidTokenResponseError names the bad field, never its value.
      throw new TokenFileError(`${file} holds an invalid token set`, {
        path: file,
        reason: 'format',
        cause,
      })
    }
  }

  const readText = async () => {
    try {
      return await readFile(file, 'utf8')
    } catch (e) {
      if (errorCode(e) === 'ENOENT') return ''
      throw ioError('read', file, e)
    }
  }

  const ensureDir = () =>
    (dirReady ??= mkdir(dir, { recursive: true, mode: 0o700 }).then(
      noop,
      (e: unknown) => {
        dirReady = undefined
        throw ioError('create the folder', dir, e)
      },
    ))

  // Temp file in the same folder (same file system, so rename is atomic), fsync, rename.
  const replace = async (text: string) => {
    const temp = join(
      dir,
      `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
    )
    let handle: fs.promises.FileHandle | undefined
    try {
      handle = await open(temp, 'wx', 0o600)
      await handle.writeFile(text, 'utf8')
      await handle.sync()
      await handle.close()
      handle = undefined
      await renameOver(temp, file)
    } catch (e) {
      await handle?.close().catch(noop)
      await unlink(temp).catch(noop)
      throw ioError('write', file, e)
    }
    // The rename itself survives a power loss only once the folder is synced too.
    await syncDir(dir)
  }

  const write = async (
    tokens: TokenSet | null,
    setOptions: StorageSetOptions | undefined,
  ) => {
    const current = parse(await readText())
    if (setOptions && !sameTokens(current.tokens, setOptions.expected))
      throw new StorageConflictError(
        'The token file holds other tokens than expected: another holder wrote first',
      )
    const text = `${JSON.stringify({ tokenflight: FORMAT, version: current.version + 1, tokens })}\n`
    // Before the rename, so that this holder's watch never mistakes it for another's.
    const before = seen
    seen = text
    writing = true
    try {
      await replace(text)
    } catch (e) {
      seen = before
      throw e
    } finally {
      writing = false
      writeCount++
    }
  }

  // proper-lockfile removes a stale lock with stat-then-rmdir: two waiters can both see it
  // stale and the second removes the lock the first just took, so both would refresh.
  // Takeovers go one at a time through a second directory, and check staleness again inside.
  let acquiring = false
  const locked = () =>
    Object.assign(new Error('Lock file is already being held'), {
      code: 'ELOCKED',
    })
  const lockFs = {
    ...fs,
    rmdir(target: string, callback: (error: Error | null) => void) {
      if (!acquiring || target !== lockPath)
        return fs.rmdir(target, (e) => callback(e))
      fs.mkdir(takeoverPath, (busy) => {
        if (busy) {
          if (busy.code !== 'EEXIST') return callback(busy)
          // Left by a process that died during its takeover (a few ms): removed once stale.
          return fs.stat(takeoverPath, (e, stat) => {
            if (e || stat.mtimeMs >= Date.now() - staleMs)
              return callback(locked())
            fs.rmdir(takeoverPath, () => callback(locked()))
          })
        }
        const done = (error: Error | null) =>
          fs.rmdir(takeoverPath, () => callback(error))
        fs.stat(lockPath, (e, stat) => {
          if (e) return done(e.code === 'ENOENT' ? null : e)
          // Another waiter took it over meanwhile: its lock is fresh.
          if (stat.mtimeMs >= Date.now() - staleMs) return done(locked())
          fs.rmdir(lockPath, (e) => done(e && e.code !== 'ENOENT' ? e : null))
        })
      })
    },
  }

  const sleep = (ms: number, signal: AbortSignal | undefined) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(done, ms)
      function done() {
        signal?.removeEventListener('abort', done)
        clearTimeout(timer)
        if (signal?.aborted) reject(signal.reason)
        else resolve()
      }
      signal?.addEventListener('abort', done, { once: true })
    })

  const acquire = async (
    signal: AbortSignal | undefined,
    deadline: number,
  ): Promise<() => Promise<void>> => {
    await ensureDir()
    let remade = false
    for (
      let delay = FIRST_POLL_MS;
      ;
      delay = Math.min(delay * 2, MAX_POLL_MS)
    ) {
      signal?.throwIfAborted()
      let release: (() => Promise<void>) | undefined
      acquiring = true
      try {
        release = await lockfile.lock(file, {
          lockfilePath: lockPath,
          realpath: false,
          retries: 0,
          stale: staleMs,
          fs: lockFs,
          // This process stalled past staleMs and another one took the lock over. The
          // default throws from a timer (a crash); compare-and-set guards the writes.
          onCompromised: noop,
        })
      } catch (e) {
        const code = errorCode(e)
        // The folder was removed since: make it again, once.
        if (code === 'ENOENT' && !remade) {
          remade = true
          dirReady = undefined
          await ensureDir()
          continue
        }
        if (code !== 'ELOCKED') throw ioError('take the lock file', lockPath, e)
      } finally {
        acquiring = false
      }
      if (release) {
        if (signal?.aborted) {
          await release().catch(noop)
          signal.throwIfAborted()
        }
        return release
      }
      // Jitter, so that waiters do not poll in step.
      const wait = delay * (1 + Math.random())
      if (Date.now() + wait > deadline)
        throw new LockTimeoutError(lockPath, lockWaitMs)
      await sleep(wait, signal)
    }
  }

  const withLock = async <T>(
    work: () => Promise<T>,
    signal: AbortSignal | undefined,
    deadline: number,
  ): Promise<T> => {
    const previous = tail
    let finish = noop
    const mine = new Promise<void>((resolve) => (finish = resolve))
    tail = previous.then(() => mine)
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort = noop
    try {
      // Another lock of this process first, as long as the caller's bounds allow.
      await Promise.race([
        previous,
        new Promise<never>((_, reject) => {
          if (deadline < Infinity)
            timer = setTimeout(
              () => reject(new LockTimeoutError(lockPath, lockWaitMs)),
              deadline - Date.now(),
            )
          if (!signal) return
          if (signal.aborted) reject(signal.reason)
          onAbort = () => reject(signal.reason)
          signal.addEventListener('abort', onAbort, { once: true })
        }),
      ]).finally(() => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      })
      const release = await acquire(signal, deadline)
      held = true
      try {
        return await work()
      } finally {
        held = false
        // Already gone after a takeover: nothing left to release.
        await release().catch(noop)
      }
    } finally {
      finish()
    }
  }

  // Watching: fs.watch on the folder (inotify, FSEvents, ReadDirectoryChangesW: ms) and
  // fs.watchFile polling (pollIntervalMs) for file systems where fs.watch is blind.
  const listeners = new Set<() => void>()
  let unwatch: (() => void) | undefined
  let checking = false
  let again = false
  const check = async () => {
    if (checking) return void (again = true)
    checking = true
    try {
      do {
        again = false
        if (writing) await writes
        const count = writeCount
        let text: string
        try {
          text = await readFile(file, 'utf8')
        } catch (e) {
          text = errorCode(e) === 'ENOENT' ? '' : `\0${String(errorCode(e))}`
        }
        if (writing || writeCount !== count) {
          again = true
          continue
        }
        if (text === seen) continue
        seen = text
        for (const listener of [...listeners])
          try {
            listener()
          } catch (error) {
            ;(
              globalThis as { reportError?: (e: unknown) => void }
            ).reportError?.(error)
          }
      } while (again)
    } finally {
      checking = false
    }
  }
  const startWatching = () => {
    try {
      seen ??= fs.readFileSync(file, 'utf8')
    } catch {
      seen ??= ''
    }
    let watcher: fs.FSWatcher | undefined
    try {
      watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (!name || name === base) void check()
      })
      // Polling carries on alone.
      watcher.on('error', () => watcher?.close())
    } catch {
      // No fs.watch for this folder (missing, or unsupported): polling only.
    }
    const poll = () => void check()
    fs.watchFile(file, { persistent: false, interval: pollIntervalMs }, poll)
    return () => {
      watcher?.close()
      fs.unwatchFile(file, poll)
    }
  }

  return {
    async get() {
      return parse(await readText()).tokens
    },

    set(tokens, setOptions) {
      // Inside this holder's lock the file is ours; elsewhere the check and the write
      // take the lock file, so that no other process writes in between.
      const run = () =>
        held
          ? write(tokens, setOptions)
          : withLock(
              () => write(tokens, setOptions),
              undefined,
              Date.now() + lockWaitMs,
            )
      const next = writes.then(run, run)
      writes = next.catch(noop)
      return next
    },

    lock<T>(work: () => Promise<T>, { signal }: StorageLockContext) {
      return withLock(work, signal, Infinity)
    },

    watch(onChange) {
      const listener = () => onChange()
      listeners.add(listener)
      unwatch ??= startWatching()
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0) {
          unwatch?.()
          unwatch = undefined
        }
      }
    },
  }
}

// Windows refuses to replace a file another process has open for a moment: retry briefly.
async function renameOver(from: string, to: string) {
  for (let attempt = 0; ; attempt++)
    try {
      return await rename(from, to)
    } catch (e) {
      const code = errorCode(e)
      if (
        process.platform !== 'win32' ||
        attempt >= 5 ||
        (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')
      )
        throw e
      await new Promise((r) => setTimeout(r, 10 * 2 ** attempt))
    }
}

// Windows cannot open a folder for fsync; there the rename is as durable as it gets.
async function syncDir(dir: string) {
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r').catch(() => undefined)
  await handle?.sync().catch(noop)
  await handle?.close().catch(noop)
}
