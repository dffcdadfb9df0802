import { createHash, randomUUID } from 'node:crypto'
import { StorageConflictError, normalizeTokenResponse } from '@tokenflight/core'
import type {
  StorageLockContext,
  StorageSetOptions,
  TokenSet,
} from '@tokenflight/core'
import { RedisStorageError } from './errors'
import type { RedisStorageErrorReason } from './errors'

/**
 * What redisStorage needs of a node-redis (>= 5) client: `createClient()` from `redis`
 * fits as is. Typed structurally so that any module, script or RESP setup of the client fits.
 */
export type RedisClientLike = {
  sendCommand(
    args: string[],
    options?: { abortSignal?: AbortSignal },
  ): Promise<unknown>
  duplicate(): RedisSubscriberLike
}

/** The duplicate connection `watch` subscribes with. */
export type RedisSubscriberLike = {
  connect(): Promise<unknown>
  subscribe(
    channel: string,
    listener: (message: string, channel: string) => unknown,
  ): Promise<unknown>
  on(event: 'error' | 'ready', listener: () => void): unknown
  unref(): void
  destroy(): void
}

/** A TokenStorage shared through Redis: every method is there and async. */
export type RedisStorage = {
  get(): Promise<TokenSet | null>
  set(tokens: TokenSet | null, options?: StorageSetOptions): Promise<void>
  lock<T>(work: () => Promise<T>, ctx: StorageLockContext): Promise<T>
  watch(onChange: () => void): () => void
}

export type RedisStorageOptions = {
  /**
   * The hash that holds the tokens. The lock is `${key}:lock`, the change channel
   * `${key}:changed`. Default `'tokenflight:tokens'`; one key per shared grant.
   */
  key?: string
  /**
   * The lock expires this long after its holder stopped extending it (a holder extends it
   * every `lockTtlMs / 3` while its refresh runs, and stops when the refresh's deadline
   * passes). A dead holder blocks the others this long at most. Default 5_000; keep it
   * below the session's `refreshTimeoutMs`, so that a waiter gets a dead holder's lock
   * within one refresh attempt.
   */
  lockTtlMs?: number
  /**
   * Every command fails with a `RedisStorageError` (reason `'unavailable'`) when Redis has
   * not answered within this long (node-redis queues commands while it reconnects).
   * Default 5_000.
   */
  commandTimeoutMs?: number
}

// The tokens, their fingerprint and a version in one hash. Compare-and-set: the write goes
// through when the stored fingerprint is the expected one; a key lost by Redis (restart
// without persistence) counts as a match for a holder that saw it written (ARGV[7] = 1), so
// that its refresh writes it again. The version never goes back (ARGV[8]: the highest seen).
// The notice carries the writer's id and the version, never a token.
const SET = script(`
local exists = redis.call('EXISTS', KEYS[1]) == 1
if ARGV[1] == 'cas' and (exists or ARGV[7] ~= '1') then
  local fp = redis.call('HGET', KEYS[1], 'fp') or ''
  if fp ~= ARGV[2] then
    return {0, tonumber(redis.call('HGET', KEYS[1], 'version') or '0')}
  end
end
if not exists then redis.call('HSET', KEYS[1], 'version', ARGV[8]) end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], 'tokens', 'fp')
else
  redis.call('HSET', KEYS[1], 'tokens', ARGV[3], 'fp', ARGV[4])
end
redis.call('PUBLISH', ARGV[5], ARGV[6] .. ' ' .. version)
return {1, version}
`)
// Only the owner (a random id per lock) releases or extends the lock.
const UNLOCK = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)
const EXTEND = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

type Script = { source: string; sha: string }
function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

// Lock polling: short first (a refresh holds the lock for one network call), then capped.
const FIRST_POLL_MS = 2
const MAX_POLL_MS = 25

const noop = () => {}

/** What `sameTokens` compares, hashed: the script compares fingerprints, not tokens. */
const fingerprint = (tokens: TokenSet | null) =>
  tokens
    ? createHash('sha256')
        .update(
          JSON.stringify([tokens.accessToken, tokens.refreshToken ?? null]),
        )
        .digest('hex')
    : ''

const text = (reply: unknown) =>
  reply === null || reply === undefined ? null : String(reply)

/**
 * Keeps the tokens in Redis for every process on every machine that uses the same key: one
 * refresh per expiry across the fleet. `lock` is `SET NX PX` with a random owner, extended
 * while the refresh runs and released by a compare-and-delete script; writes are
 * compare-and-set scripts with a version; `watch` subscribes to the key's channel on a
 * duplicate connection, and the notices carry no token.
 */
export function redisStorage(
  client: RedisClientLike,
  options: RedisStorageOptions = {},
): RedisStorage {
  const key = options.key ?? 'tokenflight:tokens'
  const lockKey = `${key}:lock`
  const channel = `${key}:changed`
  const lockTtlMs = options.lockTtlMs ?? 5_000
  const commandTimeoutMs = options.commandTimeoutMs ?? 5_000
  // Tells this holder's notices from the others'.
  const sender = randomUUID()
  // The highest version this holder read or wrote (answers on `client`, in order): > 0
  // means the key existed.
  let seenVersion = 0

  const fail = (
    what: string,
    reason: RedisStorageErrorReason,
    cause?: unknown,
  ) =>
    new RedisStorageError(
      `Redis ${what} for ${key} failed (${reason})`,
      cause === undefined ? { key, reason } : { key, reason, cause },
    )

  // One command, bounded by commandTimeoutMs and the caller's signal. Aborted while queued
  // (node-redis queues while it reconnects), it is dropped from the queue; already sent,
  // its late answer goes to `late`.
  const send = (
    args: string[],
    signal?: AbortSignal,
    late?: (reply: unknown) => void,
  ): Promise<unknown> => {
    const timeout = AbortSignal.timeout(commandTimeoutMs)
    const abort = signal ? AbortSignal.any([signal, timeout]) : timeout
    const reply = client.sendCommand(args, { abortSignal: abort })
    return new Promise((resolve, reject) => {
      const stop = () => {
        reject(signal?.aborted ? signal.reason : fail(args[0]!, 'unavailable'))
        reply.then(late ?? noop, noop)
      }
      if (abort.aborted) return stop()
      abort.addEventListener('abort', stop, { once: true })
      reply
        .then(resolve, (e: unknown) => {
          if (signal?.aborted) return reject(signal.reason)
          // An error reply starts with its code (ERR, WRONGTYPE, NOSCRIPT…); a connection
          // error of node-redis does not.
          const code = /^([A-Z][A-Z_]+) /.exec(
            (e as Error | null)?.message ?? '',
          )?.[1]
          reject(
            fail(
              args[0]!,
              code === 'WRONGTYPE'
                ? 'format'
                : !code ||
                    /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)$/.test(
                      code,
                    )
                  ? 'unavailable'
                  : 'command',
              e,
            ),
          )
        })
        .finally(() => abort.removeEventListener('abort', stop))
    })
  }

  const run = async (
    s: Script,
    keys: string[],
    args: string[],
    signal?: AbortSignal,
  ) => {
    const tail = [String(keys.length), ...keys, ...args]
    try {
      return await send(['EVALSHA', s.sha, ...tail], signal)
    } catch (e) {
      // Not cached yet, or Redis restarted: send the source once.
      if (
        !(e instanceof RedisStorageError) ||
        !/^NOSCRIPT/.test((e.cause as Error | undefined)?.message ?? '')
      )
        throw e
      return send(['EVAL', s.source, ...tail], signal)
    }
  }

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(done, ms)
      function done() {
        signal.removeEventListener('abort', done)
        clearTimeout(timer)
        if (signal.aborted) reject(signal.reason)
        else resolve()
      }
      signal.addEventListener('abort', done, { once: true })
    })

  const unlock = (owner: string) =>
    run(UNLOCK, [lockKey], [owner]).then(noop, noop)

  const listeners = new Set<() => void>()
  const notify = () => {
    for (const listener of [...listeners])
      try {
        listener()
      } catch (error) {
        ;(globalThis as { reportError?: (e: unknown) => void }).reportError?.(
          error,
        )
      }
  }
  let subscriber: RedisSubscriberLike | undefined
  const subscribe = () => {
    const sub = client.duplicate()
    // node-redis throws an 'error' event nobody listens to; it reconnects by itself.
    sub.on('error', noop)
    let connected = false
    // After an outage: notices may have been missed, so every holder reads again.
    sub.on('ready', () => {
      if (connected) notify()
      connected = true
    })
    sub.unref()
    void sub
      .connect()
      .then(() =>
        sub.subscribe(channel, (message) => {
          // Not a version seen: this socket may run ahead of a read's answer on the
          // other one, and that read (older) would then look like a lost key.
          if (message.split(' ')[0] !== sender) notify()
        }),
      )
      // Live from now on: a write made before (say, since the session read the storage
      // at start) would go unnoticed, so every holder reads once.
      .then(() => subscriber === sub && notify(), noop)
    return sub
  }

  return {
    async get() {
      const [json, version] = (await send([
        'HMGET',
        key,
        'tokens',
        'version',
      ])) as unknown[]
      const v = Number(text(version) ?? 0)
      if (text(version) === null) {
        if (seenVersion > 0) throw fail('HMGET', 'lost')
        return null
      }
      seenVersion = Math.max(seenVersion, v)
      const stored = text(json)
      if (stored === null) return null
      try {
        return normalizeTokenResponse(JSON.parse(stored))
      } catch {
        // No cause: a SyntaxError quotes the text, which may hold a token.
        throw fail('HMGET', 'format')
      }
    },

    async set(tokens, setOptions?: StorageSetOptions) {
      const [written, version] = (await run(
        SET,
        [key],
        [
          setOptions ? 'cas' : 'put',
          setOptions ? fingerprint(setOptions.expected) : '',
          tokens ? JSON.stringify(tokens) : '',
          fingerprint(tokens),
          channel,
          sender,
          seenVersion > 0 ? '1' : '0',
          String(seenVersion),
        ],
      )) as [unknown, unknown]
      seenVersion = Math.max(seenVersion, Number(version) || 0)
      if (Number(written) !== 1)
        throw new StorageConflictError(
          'Redis holds other tokens than expected: another holder wrote first',
        )
    },

    async lock<T>(work: () => Promise<T>, { signal }: StorageLockContext) {
      const owner = randomUUID()
      for (
        let delay = FIRST_POLL_MS;
        ;
        delay = Math.min(delay * 2, MAX_POLL_MS)
      ) {
        signal.throwIfAborted()
        const reply = await send(
          ['SET', lockKey, owner, 'NX', 'PX', String(lockTtlMs)],
          signal,
          // Taken after this holder gave up waiting: give it back at once.
          (late) => void (late === 'OK' && unlock(owner)),
        )
        if (reply === 'OK') break
        await sleep(delay * (1 + Math.random()), signal)
      }
      // The deadline passed as the lock came: give it back, run nothing.
      if (signal.aborted) {
        void unlock(owner)
        throw signal.reason
      }
      // Extended while the work runs, until its deadline: a live holder keeps the lock,
      // a holder that hangs or dies loses it lockTtlMs later at most.
      let extending = false
      const extend = setInterval(() => {
        if (signal.aborted) return clearInterval(extend)
        // One at a time: while Redis is slow, extensions must not pile up.
        if (extending) return
        extending = true
        run(EXTEND, [lockKey], [owner, String(lockTtlMs)])
          .catch(noop)
          .finally(() => (extending = false))
      }, lockTtlMs / 3)
      try {
        return await work()
      } finally {
        clearInterval(extend)
        // Not awaited: while Redis is away the release would hold the refresh up to
        // commandTimeoutMs, and the key expires anyway. Same connection, so it goes out
        // before this holder's next SET NX.
        void unlock(owner)
      }
    },

    watch(onChange) {
      const listener = () => onChange()
      listeners.add(listener)
      subscriber ??= subscribe()
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0 && subscriber) {
          subscriber.destroy()
          subscriber = undefined
        }
      }
    },
  }
}
