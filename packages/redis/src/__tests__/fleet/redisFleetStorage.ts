// The fleet's storage module for redisStorage (see packages/node/src/__tests__/fleet/fleet.ts).
// `@redis/client` is what the `redis` package re-exports, without its modules: a smaller
// bundle for every process to load.
import type { TokenSet } from '@tokenflight/core'
import { createClient } from '@redis/client'
import { redisStorage } from '../../index'

export type RedisFleetOptions = {
  url: string
  key: string
  lockTtlMs?: number
  commandTimeoutMs?: number
}

async function connect(url: string) {
  // Reconnects every 50 ms: the outage test restarts Redis and expects the fleet back soon.
  const client = createClient({ url, socket: { reconnectStrategy: () => 50 } })
  // node-redis throws an 'error' event nobody listens to.
  client.on('error', () => {})
  await client.connect()
  return client
}

export async function createStorage({ url, ...options }: RedisFleetOptions) {
  return redisStorage(await connect(url), options)
}

export async function seed({ url, key }: RedisFleetOptions, tokens: TokenSet) {
  const client = await connect(url)
  await redisStorage(client, { key }).set(tokens)
  client.destroy()
}
