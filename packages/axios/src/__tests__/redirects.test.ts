// Issue 15: a redirect never carries the token to an origin outside allowedOrigins.
import { createServer } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import axios from 'axios'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSession } from '@tokenflight/core'
import { attachSession } from '../attachSession'
import { isBrowser } from './harness'

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe.skipIf(isBrowser)('redirects in Node (http adapter)', () => {
  const landed: Array<{ path: string; headers: IncomingHttpHeaders }> = []
  let api: string
  let elsewhere: string
  // The API redirects /away to another origin and /here to itself.
  const apiServer = createServer((req, res) => {
    if (req.url === '/away') res.writeHead(302, { location: `${elsewhere}/x` })
    else if (req.url === '/here') res.writeHead(302, { location: '/landed' })
    else landed.push({ path: `api${req.url}`, headers: req.headers })
    res.end()
  })
  const foreign = createServer((req, res) => {
    landed.push({ path: `foreign${req.url}`, headers: req.headers })
    res.end()
  })

  beforeAll(async () => {
    api = await listen(apiServer)
    elsewhere = await listen(foreign)
  })
  afterAll(async () => {
    for (const server of [apiServer, foreign]) {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
  })

  it.each(['Authorization', 'X-Api-Token'])(
    'keeps %s to allowed origins only',
    async (headerName) => {
      landed.length = 0
      const session = createSession({
        refresh: () => Promise.reject(new Error('no refresh here')),
      })
      await session.setTokens({ accessToken: 'tok-REDIRECT-secret' })
      const client = axios.create({ baseURL: api, adapter: 'http' })
      let seen = 0
      attachSession(client, session, { headerName })
      await client.get('/away', { beforeRedirect: () => void seen++ })
      await client.get('/here')
      const header = headerName.toLowerCase()
      expect(landed.map((l) => [l.path, l.headers[header]])).toEqual([
        ['foreign/x', undefined],
        ['api/landed', expect.stringContaining('tok-REDIRECT-secret')],
      ])
      // The app's own beforeRedirect still runs.
      expect(seen).toBe(1)
    },
  )
})
