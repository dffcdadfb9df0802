// openapiFetchAuth with the real openapi-fetch, against the mock server's MSW handlers.
import createClient from 'openapi-fetch'
import type { Middleware } from 'openapi-fetch'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RefreshError, createSession, oauth2Client } from '@tokenflight/core'
import {
  DEFAULT_USER,
  authHandlers,
  createAuthServer,
} from '@tokenflight/mock-server'
import type { Todo } from '@tokenflight/mock-server'
import { openapiFetchAuth } from '../openapiFetchAuth'
import { UnreplayableBodyError } from '../shared'
import type { AuthOptions } from '../shared'
import { API, counter, deferred, settle, times } from './harness'

/** The part of the mock server's API these tests use, as openapi-typescript would write it. */
type paths = {
  '/me': {
    get: {
      responses: {
        200: { content: { 'application/json': { username: string } } }
        401: { content: { 'application/json': { detail: string } } }
      }
    }
  }
  '/todos': {
    post: {
      requestBody: {
        content: { 'application/json': { title: string; done?: boolean } }
      }
      responses: {
        201: { content: { 'application/json': Todo } }
        401: { content: { 'application/json': { detail: string } } }
      }
    }
  }
}

const auth = createAuthServer()
const msw = setupServer(...authHandlers(auth, { baseUrl: API }))

beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  msw.resetHandlers()
  auth.reset()
})
afterAll(() => msw.close())

async function signIn(options: AuthOptions = {}) {
  const session = createSession({
    ...oauth2Client({ baseUrl: API }),
    retry: { attempts: 0, baseDelayMs: 1 },
  })
  await session.login(DEFAULT_USER)
  const client = createClient<paths>({ baseUrl: API })
  client.use(openapiFetchAuth(session, { allowedOrigins: [API], ...options }))
  return { session, client }
}

describe('openapiFetchAuth', () => {
  it('20 stale GETs: 1 refresh, 20 served', async () => {
    const { client } = await signIn()
    auth.expireAccessTokens()

    const results = await Promise.all(times(20, () => client.GET('/me')))

    expect(results.map((r) => r.data)).toEqual(
      Array(20).fill({ username: DEFAULT_USER.username }),
    )
    expect(auth.stats).toMatchObject({ refreshes: 1, served: 20 })
  })

  it('20 stale POSTs: 1 refresh, 20 served, every body intact', async () => {
    const { client } = await signIn()
    auth.expireAccessTokens()

    const results = await Promise.all(
      times(20, (i) => client.POST('/todos', { body: { title: `todo ${i}` } })),
    )

    expect(results.map((r) => r.response.status)).toEqual(Array(20).fill(201))
    expect(results.map((r) => r.data?.title)).toEqual(
      times(20, (i) => `todo ${i}`),
    )
    expect(auth.stats).toMatchObject({
      refreshes: 1,
      served: 20,
      unauthorized: 20,
    })
  })

  it('retries late 401s without refreshing again', async () => {
    const { client, session } = await signIn()
    auth.expireAccessTokens()
    const held = deferred()
    const arrived = counter(5)
    msw.use(
      http.get(`${API}/me`, async () => {
        if (arrived.seen >= 5) return
        arrived.count()
        await held.promise
      }),
    )
    const late = times(5, () => client.GET('/me'))
    await arrived.reached

    await client.POST('/todos', { body: { title: 'now' } })
    expect(auth.stats.refreshes).toBe(1)
    const { generation } = session.getSnapshot()

    held.resolve()
    const results = await Promise.all(late)

    expect(results.map((r) => r.response.status)).toEqual(Array(5).fill(200))
    expect(auth.stats.refreshes).toBe(1)
    expect(session.getSnapshot().generation).toBe(generation)
  })

  it('retries once: a final 401 is returned as the error response', async () => {
    const { client } = await signIn()
    auth.inject({ endpoint: 'me', kind: 'status', status: 401, times: 2 })

    const { response, error } = await client.GET('/me')

    expect(response.status).toBe(401)
    expect(error).toBeDefined()
    expect(auth.stats.refreshes).toBe(1)
  })

  it('a failed refresh rejects every waiting call with the same RefreshError', async () => {
    const { client } = await signIn()
    auth.expireAccessTokens()
    auth.revokeSessions()

    const errors = await settle(times(5, () => client.GET('/me')))

    expect(new Set(errors).size).toBe(1)
    expect(errors[0]).toBeInstanceOf(RefreshError)
  })

  it('uses the client’s fetch for the retry', async () => {
    const { session } = await signIn()
    const sent: string[] = []
    const client = createClient<paths>({
      baseUrl: API,
      fetch: (request) => {
        sent.push(request.headers.get('authorization') ?? 'none')
        return fetch(request)
      },
    })
    client.use(openapiFetchAuth(session, { allowedOrigins: [API] }))
    auth.expireAccessTokens()

    const { response } = await client.GET('/me')

    expect(response.status).toBe(200)
    expect(sent).toHaveLength(2)
    expect(sent[0]).not.toBe(sent[1])
  })

  it('fails clearly when a later middleware replaced the request and its body is gone', async () => {
    const { client } = await signIn()
    const replace: Middleware = {
      onRequest: ({ request }) => new Request(request),
    }
    client.use(replace)
    auth.expireAccessTokens()

    const error: unknown = await client
      .POST('/todos', { body: { title: 'x' } })
      .catch((e: unknown) => e)

    expect(error).toBeInstanceOf(UnreplayableBodyError)
    expect(auth.stats.unauthorized).toBe(1)
  })

  it('sends no token to a foreign origin', async () => {
    const { session } = await signIn()
    const seen: Array<string | null> = []
    msw.use(
      http.get('http://foreign.test/me', ({ request }) => {
        seen.push(request.headers.get('authorization'))
        return new HttpResponse(null, { status: 401 })
      }),
    )
    const foreign = createClient<paths>({ baseUrl: 'http://foreign.test' })
    foreign.use(openapiFetchAuth(session, { allowedOrigins: [API] }))

    const { response } = await foreign.GET('/me')

    expect(response.status).toBe(401)
    expect(seen).toEqual([null])
    expect(auth.stats.refreshes).toBe(0)
  })
})
