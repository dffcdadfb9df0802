// The peer range starts at node-redis 5: the same storage on a node-redis 5 client
// (the `redis5` npm alias), its types included.
import type { TokenSet } from '@tokenflight/core'
import { StorageConflictError } from '@tokenflight/core'
import { createClient } from 'redis5'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RedisStorageError, redisStorage } from '../index'
import { startRedisServer, type RedisServer } from './redisServer'

const A: TokenSet = { accessToken: 'access-A', refreshToken: 'refresh-A' }
const B: TokenSet = { accessToken: 'access-B', refreshToken: 'refresh-B' }

let server: RedisServer
const clients: Array<{ destroy(): void }> = []
beforeAll(async () => {
  server = await startRedisServer()
}, 30_000)
afterAll(async () => {
  for (const client of clients) client.destroy()
  await server?.close()
})

async function connect() {
  const client = createClient({
    url: server.url,
    socket: { reconnectStrategy: () => 50 },
  })
  client.on('error', () => {})
  await client.connect()
  clients.push(client)
  return client
}

it('works on a node-redis 5 client: compare-and-set, lock, watch, and typed errors when Redis is away', async () => {
  const mine = redisStorage(await connect(), {
    key: 'v5',
    commandTimeoutMs: 300,
  })
  const theirs = redisStorage(await connect(), { key: 'v5' })
  const live = new Promise<void>((resolve) => {
    const off = mine.watch(() => {
      off()
      resolve()
    })
  })
  await live
  await mine.set(A, { expected: null })
  await expect(theirs.set(B, { expected: B })).rejects.toBeInstanceOf(
    StorageConflictError,
  )
  const noticed = new Promise<void>((resolve) => {
    const off = mine.watch(() => {
      off()
      resolve()
    })
  })
  await theirs.set(B, { expected: A })
  await noticed
  expect(await mine.get()).toEqual(B)
  expect(
    await mine.lock(async () => 'held', { signal: AbortSignal.timeout(2_000) }),
  ).toBe('held')

  await server.stop()
  await expect(mine.get()).rejects.toBeInstanceOf(RedisStorageError)
  await expect(
    mine.lock(async () => 'held', { signal: AbortSignal.timeout(2_000) }),
  ).rejects.toMatchObject({ reason: 'unavailable' })
  await server.start()
  await expect(
    mine.lock(async () => 'held', { signal: AbortSignal.timeout(5_000) }),
  ).resolves.toBe('held')
})
