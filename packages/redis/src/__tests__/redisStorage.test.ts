import { StorageConflictError, StorageError } from '@tokenflight/core'
import type { TokenSet } from '@tokenflight/core'
import { createClient } from 'redis'
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
} from 'vitest'
import { RedisStorageError, redisStorage } from '../index'
import { startRedisServer, type RedisServer } from './redisServer'

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
const secrets = [A, B, C].flatMap((t) => [t.accessToken, t.refreshToken!])

const noTokenIn = (value: unknown) => {
  const text = `${String(value)} ${JSON.stringify(value)} ${JSON.stringify(
    value && typeof value === 'object' ? Object.entries(value) : value,
  )}`
  for (const secret of secrets) expect(text).not.toContain(secret)
}

function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** Resolves with how long it took `subscribe`'s listener to be called, or rejects after `ms`. */
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

const signal = () => new AbortController().signal

let server: RedisServer
const clients: Array<{ destroy(): void }> = []
async function connect() {
  // A short reconnect delay, so that the outage tests do not wait on backoff.
  const client = createClient({
    url: server.url,
    socket: { reconnectStrategy: () => 50 },
  })
  client.on('error', () => {})
  await client.connect()
  clients.push(client)
  return client
}
let key: string
let n = 0

beforeAll(async () => {
  server = await startRedisServer()
}, 30_000)
afterAll(async () => {
  await server?.close()
})
beforeEach(() => {
  key = `test:${process.pid}:${++n}`
})
afterEach(async () => {
  await server.start()
  for (const client of clients.splice(0)) client.destroy()
})

describe('redisStorage: tokens and compare-and-set', () => {
  it('reads null when nothing was written, and what was written after', async () => {
    const storage = redisStorage(await connect(), { key })
    expect(await storage.get()).toBeNull()
    await storage.set(A)
    expect(await storage.get()).toEqual(A)
    expect(await redisStorage(await connect(), { key }).get()).toEqual(A)
    await storage.set(null)
    expect(await storage.get()).toBeNull()
  })

  it('keeps the tokens, their fingerprint and a version that moves on every write in one hash', async () => {
    const client = await connect()
    const storage = redisStorage(client, { key })
    await storage.set(A)
    await storage.set(B)
    const stored = await client.hGetAll(key)
    expect(stored).toEqual({
      tokens: JSON.stringify(B),
      fp: expect.stringMatching(/^[0-9a-f]{64}$/),
      version: '2',
    })
    await storage.set(null)
    expect(await client.hGetAll(key)).toEqual({ version: '3' })
  })

  it('writes with expected only while Redis holds those tokens; otherwise StorageConflictError, nothing written', async () => {
    const mine = redisStorage(await connect(), { key })
    const theirs = redisStorage(await connect(), { key })
    await mine.set(A, { expected: null })
    await theirs.set(B, {
      expected: { accessToken: A.accessToken, refreshToken: A.refreshToken },
    })
    const error = await mine.set(C, { expected: A }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageConflictError)
    noTokenIn(error)
    expect(await mine.get()).toEqual(B)
    await theirs.set(null)
    await expect(mine.set(C, { expected: B })).rejects.toBeInstanceOf(
      StorageConflictError,
    )
    expect(await mine.get()).toBeNull()
  })

  it('a key that holds something else: typed errors, never overwritten, no token in them', async () => {
    const client = await connect()
    const storage = redisStorage(client, { key })
    await client.set(key, 'access-A-secret')
    const read = await storage.get().catch((e: unknown) => e)
    expect(read).toBeInstanceOf(RedisStorageError)
    expect(read).toBeInstanceOf(StorageError)
    expect(read).toMatchObject({ reason: 'format', key })
    noTokenIn(read)
    const written = await storage.set(B).catch((e: unknown) => e)
    expect(written).toBeInstanceOf(RedisStorageError)
    noTokenIn(written)
    expect(await client.get(key)).toBe('access-A-secret')

    await client.del(key)
    await client.hSet(key, {
      version: '1',
      tokens: '{"accessToken":"access-A-sec',
    })
    const corrupt = await storage.get().catch((e: unknown) => e)
    expect(corrupt).toMatchObject({
      name: 'RedisStorageError',
      reason: 'format',
    })
    noTokenIn(corrupt)
  })
})

describe('redisStorage: lock', () => {
  it('is exclusive across holders: the second runs after the first released', async () => {
    const one = redisStorage(await connect(), { key })
    const two = redisStorage(await connect(), { key })
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
    const second = two.lock(async () => void order.push('two in'), {
      signal: signal(),
    })
    await new Promise((r) => setTimeout(r, 150))
    expect(order).toEqual(['one in'])
    gate.resolve()
    await Promise.all([first, second])
    expect(order).toEqual(['one in', 'one out', 'two in'])
  })

  it('returns what the work returns, rejects with what it throws, and releases either way', async () => {
    const client = await connect()
    const storage = redisStorage(client, { key })
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
    // The release is sent after the work; the same connection answers in order.
    await client.ping()
    expect(await client.exists(`${key}:lock`)).toBe(0)
  })

  it('rejects with the signal reason when it aborts while waiting, without running the work', async () => {
    const holder = redisStorage(await connect(), { key })
    const waiter = redisStorage(await connect(), { key })
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
    const waiting = waiter.lock(async () => void (ran = true), {
      signal: controller.signal,
    })
    const reason = new Error('deadline')
    controller.abort(reason)
    await expect(waiting).rejects.toBe(reason)
    gate.resolve()
    await held
    expect(ran).toBe(false)
    await waiter.lock(async () => {}, { signal: AbortSignal.timeout(1_000) })
  })

  it('is extended while the work runs: a live holder keeps it past lockTtlMs', async () => {
    const holder = redisStorage(await connect(), { key, lockTtlMs: 300 })
    const other = redisStorage(await connect(), { key, lockTtlMs: 300 })
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
    // Three lifetimes of the lock: without extension the other holder would get it.
    await expect(
      other.lock(async () => {}, { signal: AbortSignal.timeout(1_000) }),
    ).rejects.toMatchObject({ name: 'TimeoutError' })
    gate.resolve()
    await held
  })

  it('expires lockTtlMs after its holder died, and the next holder gets it', async () => {
    const client = await connect()
    // A holder that died: nobody extends or releases its lock.
    await client.set(`${key}:lock`, 'dead-holder', { PX: 400 })
    const storage = redisStorage(client, { key })
    const started = performance.now()
    await storage.lock(async () => {}, { signal: AbortSignal.timeout(2_000) })
    expect(performance.now() - started).toBeGreaterThanOrEqual(350)
  })

  it("releases only its own lock: a holder whose lock expired never deletes the next holder's", async () => {
    const client = await connect()
    const slow = redisStorage(client, { key })
    const next = redisStorage(await connect(), { key })
    const gate = deferred()
    const entered = deferred()
    const held = slow.lock(
      async () => {
        entered.resolve()
        await gate.promise
      },
      { signal: signal() },
    )
    await entered.promise
    // Its lock is gone (expired while it stalled); another holder takes it.
    await client.del(`${key}:lock`)
    const nextGate = deferred()
    const nextEntered = deferred()
    const nextHeld = next.lock(
      async () => {
        nextEntered.resolve()
        await nextGate.promise
      },
      { signal: signal() },
    )
    await nextEntered.promise
    gate.resolve()
    await held
    await client.ping()
    expect(await client.exists(`${key}:lock`)).toBe(1)
    nextGate.resolve()
    await nextHeld
  })
})

describe('redisStorage: watch', () => {
  it("notices another holder's write within a second, and not its own writes", async () => {
    const mine = redisStorage(await connect(), { key })
    const theirs = redisStorage(await connect(), { key })
    let notices = 0
    // Once subscribed, the storage says so (something may have changed before).
    const live = nextCall(mine.watch, 2_000)
    const off = mine.watch(() => notices++)
    await live
    await mine.set(B)
    await mine.set(C)
    const noticed = nextCall(mine.watch)
    await theirs.set(null)
    expect(await noticed).toBeLessThan(1_000)
    // Settle: a notice of our own writes would have arrived by now.
    const last = nextCall(mine.watch)
    await theirs.set(A)
    await last
    off()
    expect(notices).toBe(3)
  })

  it('carries no token: the message is the sender id and the version', async () => {
    const client = await connect()
    const listener = client.duplicate()
    listener.on('error', () => {})
    await listener.connect()
    clients.push(listener)
    const messages: string[] = []
    const got = deferred()
    await listener.subscribe(`${key}:changed`, (message) => {
      messages.push(message)
      if (messages.length === 2) got.resolve()
    })
    const storage = redisStorage(client, { key })
    await storage.set(A)
    await storage.set(null)
    await got.promise
    expect(messages).toEqual([
      expect.stringMatching(/^[0-9a-f-]{36} 1$/),
      expect.stringMatching(/^[0-9a-f-]{36} 2$/),
    ])
    noTokenIn(messages)
  })
})

describe('redisStorage: Redis goes away', () => {
  it('typed errors within commandTimeoutMs while it is down, nothing hangs; works again once it is back', async () => {
    const client = await connect()
    const storage = redisStorage(client, { key, commandTimeoutMs: 300 })
    await storage.set(A)
    await server.stop()
    const started = performance.now()
    const errors = await Promise.all([
      storage.get().catch((e: unknown) => e),
      storage.set(B).catch((e: unknown) => e),
      storage
        .lock(async () => 'ran', { signal: AbortSignal.timeout(5_000) })
        .catch((e: unknown) => e),
    ])
    expect(performance.now() - started).toBeLessThan(2_000)
    for (const error of errors) {
      expect(error).toBeInstanceOf(RedisStorageError)
      expect(error).toMatchObject({ reason: 'unavailable' })
      noTokenIn(error)
    }
    await server.start()
    // The lock taken while Redis was away was never sent: nothing blocks the next one.
    await expect(
      storage.lock(async () => 'ran', { signal: AbortSignal.timeout(5_000) }),
    ).resolves.toBe('ran')
  })

  it('a watcher reads again after an outage (notices may have been missed meanwhile)', async () => {
    const storage = redisStorage(await connect(), { key })
    await nextCall(storage.watch, 2_000)
    const noticed = nextCall(storage.watch, 5_000)
    await server.stop()
    await new Promise((r) => setTimeout(r, 200))
    await server.start()
    await noticed
  })

  it("a notice that overtakes a read's answer is not taken for a lost key", async () => {
    // The read runs at the server before another holder's first write, but its answer is
    // handled after that write's pub/sub notice (two sockets: no order between them).
    const client = await connect()
    let release = () => {}
    const hold = new Promise<void>((r) => (release = r))
    const slow = {
      sendCommand: async (
        args: string[],
        o?: { abortSignal?: AbortSignal },
      ) => {
        const reply = await client.sendCommand(args, o)
        if (args[0] === 'HMGET') await hold
        return reply
      },
      duplicate: () => client.duplicate(),
    }
    const mine = redisStorage(slow, { key })
    const live = nextCall(mine.watch, 2_000)
    // Stays subscribed throughout.
    const off = mine.watch(() => {})
    await live
    const read = mine.get()
    const theirs = redisStorage(await connect(), { key })
    const noticed = nextCall(mine.watch)
    await theirs.set(A)
    await noticed
    release()
    expect(await read).toBeNull()
    off()
  })

  it('a key lost by Redis: a holder that saw it gets reason lost, and its next write restores it', async () => {
    const client = await connect()
    const holder = redisStorage(client, { key })
    await holder.set(A)
    await holder.set(B)
    await server.stop()
    await server.start()
    const error = await holder.get().catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'RedisStorageError', reason: 'lost' })
    // A newcomer has seen nothing: no tokens.
    expect(await redisStorage(await connect(), { key }).get()).toBeNull()
    // The holder's next refresh writes the tokens again, and the version goes on.
    await holder.set(C, { expected: B })
    expect(await holder.get()).toEqual(C)
    expect(await client.hGet(key, 'version')).toBe('3')
  })
})
