// The README's worker pool, run against the mock server and a real redis-server: several
// workers share one key and one refresh. Keep the two in step.
import { attachSession } from '@tokenflight/axios'
import { createSession, oauth2Client } from '@tokenflight/core'
import {
  DEFAULT_USER,
  authHandlers,
  createAuthServer,
} from '@tokenflight/mock-server'
import axios from 'axios'
import { setupServer } from 'msw/node'
import { createClient } from 'redis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { redisStorage } from '../index'
import { startRedisServer, type RedisServer } from './redisServer'

const server = createAuthServer()
const msw = setupServer(
  ...authHandlers(server, { baseUrl: 'https://api.example.com' }),
)
let redisServer: RedisServer
const clients: Array<{ destroy(): void }> = []
beforeAll(async () => {
  redisServer = await startRedisServer()
  // Redis is on 127.0.0.1: MSW only answers for the API.
  msw.listen({ onUnhandledRequest: 'bypass' })
}, 30_000)
afterAll(async () => {
  msw.close()
  for (const client of clients) client.destroy()
  await redisServer?.close()
})

it('runs the README worker pool: every worker served by one refresh', async () => {
  const process = { env: { REDIS_URL: redisServer.url } }
  const warnings: string[] = []
  // What a warning was, down its causes: a failure then says why (the README logs less).
  const chain = (e: unknown): string =>
    e instanceof Error
      ? `${e.name}${'reason' in e ? `:${String(e.reason)}` : ''} ${e.message}${e.cause ? ` <- ${chain(e.cause)}` : ''}`
      : String(e)
  const log = {
    warn: (...parts: string[]) => warnings.push(parts.join(' ')),
  }

  const worker = async () => {
    // --- packages/redis/README.md, "A worker pool with redisStorage" ---
    const redis = createClient({ url: process.env.REDIS_URL })
    redis.on('error', (error) => log.warn('redis', error.message)) // node-redis throws without a listener
    await redis.connect()

    const session = createSession({
      ...oauth2Client({ baseUrl: 'https://api.example.com' }),
      storage: redisStorage(redis, { key: 'tokens:acme-integration' }),
    })
    session.on('storageError', ({ operation, error }) =>
      log.warn(operation, error.message),
    )

    const api = axios.create({ baseURL: 'https://api.example.com' })
    attachSession(api, session)
    // --- end of the snippet (the README then calls the API) ---
    // Not in the README: the causes, so that a failure here says why.
    session.on('storageError', ({ error }) => log.warn(`  ${chain(error)}`))
    clients.push(redis)
    return { session, api }
  }

  // Seeded once by an admin script.
  const admin = await worker()
  await admin.session.login(DEFAULT_USER)
  const pool = await Promise.all(Array.from({ length: 4 }, worker))
  server.expireAccessTokens()
  const answers = await Promise.all(pool.map(({ api }) => api.get('/todos')))
  expect(answers.every((a) => a.status === 200)).toBe(true)
  expect(server.stats).toMatchObject({ refreshes: 1, reuseDetections: 0 })
  expect(warnings).toEqual([])
})
