// The fetch rows: @tokenflight/fetch's createFetch next to fetch-extras' withTokenRefresh,
// @badgateway/oauth2-client's OAuth2Fetch and bare fetch, all on the same in-memory server.
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client'
import { withTokenRefresh } from 'fetch-extras'
import { createSession } from '@tokenflight/core'
import { createFetch } from '@tokenflight/fetch'
import { createAuthServer } from '@tokenflight/mock-server'
import type { AuthServer } from '@tokenflight/mock-server'
import type { TokenBody } from '../contenders.ts'
import { Transport } from '../transport.ts'
import {
  deferred,
  median,
  progress,
  quantile,
  rotate,
  seededRandom,
  settle,
  shuffle,
  waitFor,
} from '../util.ts'
import { BASE_URL, refreshCalls, settleAll } from './setup.ts'
import type { Outcome } from './setup.ts'

/** How every contender sends: a fetch-shaped function (the in-memory server, or a no-op). */
type Send = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>
type Client = (url: string, init?: RequestInit) => Promise<Response>

export type FetchContenderId =
  'tf-fetch' | 'fetch-extras' | 'oauth2-fetch' | 'bare-fetch'

type FetchContender = {
  id: FetchContenderId
  label: string
  refreshes: boolean
  create(send: Send, tokens: TokenBody): Client
}

/** POST /refresh with the JSON body the mock server takes. */
async function postRefresh(send: Send, refreshToken: string) {
  const response = await send(`${BASE_URL}/refresh`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: refreshToken }),
  })
  if (!response.ok)
    throw Object.assign(new Error(`refresh: ${response.status}`), {
      status: response.status,
    })
  return (await response.json()) as TokenBody
}

const tokenflight: FetchContender = {
  id: 'tf-fetch',
  label: 'tokenflight createFetch',
  refreshes: true,
  create(send, tokens) {
    const session = createSession({
      refresh: ({ tokens: current }) =>
        postRefresh(send, current.refreshToken!),
      refreshTimeoutMs: 120_000,
    })
    void session.setTokens(tokens)
    return createFetch(session, { fetch: send, allowedOrigins: [BASE_URL] })
  },
}

/** fetch-extras 3.2.1 as its README sets it up, plus the header of the current token. */
const fetchExtras: FetchContender = {
  id: 'fetch-extras',
  label: "fetch-extras' withTokenRefresh",
  refreshes: true,
  create(send, tokens) {
    let current = tokens
    const refreshing = withTokenRefresh({
      refreshToken: async () => {
        current = await postRefresh(send, current.refresh_token)
        return current.access_token
      },
    })(send)
    return (url, init) =>
      refreshing(url, {
        ...init,
        headers: { Authorization: `Bearer ${current.access_token}` },
      })
  },
}

/**
 * @badgateway/oauth2-client 3.3.1: OAuth2Fetch's middleware (its fetch() is the same over the
 * global fetch), refreshing at the token endpoint /refresh with a form body.
 */
const oauth2Fetch: FetchContender = {
  id: 'oauth2-fetch',
  label: "@badgateway/oauth2-client's OAuth2Fetch",
  refreshes: true,
  create(send, tokens) {
    const wrapper = new OAuth2Fetch({
      client: new OAuth2Client({
        server: BASE_URL,
        clientId: 'bench',
        tokenEndpoint: '/refresh',
        fetch: send as typeof fetch,
      }),
      getNewToken: () => null,
      getStoredToken: () => ({
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token,
        expiresAt: null,
      }),
      scheduleRefresh: false,
      // A failed refresh is its own error; without this it also logs.
      onError: () => {},
    })
    const mw = wrapper.mw()
    return (url, init) => mw(new Request(url, init), (request) => send(request))
  },
}

/** No auth logic: a fixed, valid token. The baseline. */
const bare: FetchContender = {
  id: 'bare-fetch',
  label: 'bare fetch',
  refreshes: false,
  create(send, tokens) {
    const headers = { Authorization: `Bearer ${tokens.access_token}` }
    return (url, init) => send(url, { ...init, headers })
  },
}

export const fetchContenders: readonly FetchContender[] = [
  tokenflight,
  fetchExtras,
  oauth2Fetch,
  bare,
]
const refreshingContenders = fetchContenders.filter((c) => c.refreshes)

export const fetchLabel = (id: FetchContenderId) =>
  fetchContenders.find((c) => c.id === id)!.label

type Rig = { server: AuthServer; transport: Transport; client: Client }

async function rig(contender: FetchContender): Promise<Rig> {
  const server = createAuthServer()
  const transport = new Transport(server)
  const send: Send = (input, init) => transport.handle(new Request(input, init))
  const response = await send(`${BASE_URL}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      username: 'demo',
      password: 'demo-password',
    }),
  })
  const tokens = (await response.json()) as TokenBody
  return { server, transport, client: contender.create(send, tokens) }
}

/** GET /todos; never rejects, so one failure cannot hide the others. */
const getTodos = (client: Client): Promise<Outcome> =>
  client(`${BASE_URL}/todos`).then(
    async (response) => {
      await response.body?.cancel()
      return { ok: response.ok, at: performance.now() }
    },
    () => ({ ok: false, at: performance.now() }),
  )

const served = (outcomes: readonly Outcome[]) =>
  outcomes.filter((o) => o.ok).length

export type FetchRaceRow = {
  contender: FetchContenderId
  /** 'burst' or 'late 401s'. */
  race: string
  n: number
  runs: number
  /** Worst run. */
  maxRefreshCalls: number
  minServed: number
  reuseDetections: number
  /** Median. */
  wallMs: number
}

function track(
  rows: Map<string, FetchRaceRow>,
  key: string,
  row: Omit<FetchRaceRow, 'wallMs'>,
  wallMs: number,
  walls: Map<string, number[]>,
) {
  const prev = rows.get(key)
  walls.set(key, [...(walls.get(key) ?? []), wallMs])
  if (!prev) return rows.set(key, { ...row, wallMs })
  prev.maxRefreshCalls = Math.max(prev.maxRefreshCalls, row.maxRefreshCalls)
  prev.minServed = Math.min(prev.minServed, row.minServed)
  prev.reuseDetections = Math.max(prev.reuseDetections, row.reuseDetections)
  return rows
}

/**
 * Bursts of n stale GET /todos, then late 401s: `batch` stale requests whose 401s after the
 * first are held until the refresh it triggered completed and its retry was served (as in
 * case 2). Counts refresh calls that reached the server and requests served.
 */
export async function fetchRaceCase(
  sizes: readonly number[],
  batch: number,
  runs: number,
): Promise<FetchRaceRow[]> {
  const rows = new Map<string, FetchRaceRow>()
  const walls = new Map<string, number[]>()
  for (let run = 0; run < runs; run++) {
    for (const n of sizes)
      for (const contender of rotate(refreshingContenders, run)) {
        const { server, client } = await rig(contender)
        server.expireAccessTokens()
        await settle()
        const start = performance.now()
        const outcomes = await settleAll(
          Array.from({ length: n }, () => getTodos(client)),
        )
        const key = `burst ${n} ${contender.id}`
        track(
          rows,
          key,
          {
            contender: contender.id,
            race: 'burst',
            n,
            runs,
            maxRefreshCalls: refreshCalls(server),
            minServed: served(outcomes),
            reuseDetections: server.stats.reuseDetections,
          },
          performance.now() - start,
          walls,
        )
        progress.log(
          `fetch burst ${n} ${contender.id}: ${refreshCalls(server)} refresh calls, ${served(outcomes)}/${n} served`,
        )
      }
    for (const contender of rotate(refreshingContenders, run)) {
      const { server, transport, client } = await rig(contender)
      server.expireAccessTokens()
      const refreshed = deferred()
      let first = true
      transport.holdResponses((path, status) => {
        if (path !== '/todos' || status !== 401) return false
        if (!first) return true
        first = false
        return false
      }, refreshed.promise)
      const start = performance.now()
      const pending = Array.from({ length: batch }, () => getTodos(client))
      await waitFor(() => server.stats.unauthorized >= batch, 'the batch')
      await waitFor(
        () => server.stats.served >= 1,
        'the first retry',
        5_000,
      ).catch(() => {})
      await settle()
      refreshed.resolve()
      const outcomes = await settleAll(pending)
      track(
        rows,
        `late ${contender.id}`,
        {
          contender: contender.id,
          race: 'late 401s',
          n: batch,
          runs,
          maxRefreshCalls: refreshCalls(server),
          minServed: served(outcomes),
          reuseDetections: server.stats.reuseDetections,
        },
        performance.now() - start,
        walls,
      )
      progress.log(
        `fetch late 401s ${contender.id}: ${refreshCalls(server)} refresh calls, ${served(outcomes)}/${batch} served`,
      )
    }
  }
  return [...rows.entries()].map(([key, row]) => ({
    ...row,
    wallMs: median(walls.get(key)!),
  }))
}

export type FetchOverheadRow = {
  contender: FetchContenderId
  runs: number
  /** Median µs per request, the contender's own cost over a no-op fetch. */
  usPerRequest: number
  /** Median over runs of (bare fetch's time / this contender's time) in the same run. */
  ratio: number
  p25Ratio: number
  p75Ratio: number
}

/**
 * The happy path with a valid token over a no-op fetch (one shared 200 answer, no server):
 * what is left is each client's own cost per request. Waves of `concurrency`, contenders
 * shuffled before every wave (seeded), ratios paired with bare fetch in the same run, as in
 * case 4b. One warm-up run is dropped.
 */
export async function fetchOverheadCase(
  requests: number,
  concurrency: number,
  runs: number,
): Promise<FetchOverheadRow[]> {
  const answer = new Response(null, { status: 200 })
  const noop: Send = async () => answer
  const tokens: TokenBody = {
    access_token: 'header.payload.signature',
    refresh_token: 'refresh',
    token_type: 'bearer',
    expires_in: 900,
  }
  const clients = new Map(
    fetchContenders.map((c) => [c.id, c.create(noop, tokens)]),
  )
  // createSession stores the tokens on a microtask: let it.
  await settle(1)
  const random = seededRandom(0x2545f491)
  const times = new Map<FetchContenderId, number[]>(
    fetchContenders.map((c) => [c.id, []]),
  )
  const ratios = new Map<FetchContenderId, number[]>(
    fetchContenders.map((c) => [c.id, []]),
  )
  const waves = Math.ceil(requests / concurrency)
  for (let run = -1; run < runs; run++) {
    const elapsed = new Map<FetchContenderId, number>(
      fetchContenders.map((c) => [c.id, 0]),
    )
    for (let wave = 0; wave < waves; wave++)
      for (const contender of shuffle(fetchContenders, random)) {
        const client = clients.get(contender.id)!
        const start = performance.now()
        const responses = await Promise.all(
          Array.from({ length: concurrency }, () =>
            client(`${BASE_URL}/todos`),
          ),
        )
        elapsed.set(
          contender.id,
          elapsed.get(contender.id)! + performance.now() - start,
        )
        if (!responses.every((r) => r.ok))
          throw new Error(`bench: ${contender.id} failed on the happy path`)
      }
    if (run < 0) continue
    const sent = waves * concurrency
    const bare = elapsed.get('bare-fetch')!
    for (const c of fetchContenders) {
      times.get(c.id)!.push((elapsed.get(c.id)! * 1000) / sent)
      ratios.get(c.id)!.push(bare / elapsed.get(c.id)!)
    }
    progress.log(
      `fetch no-op run ${run + 1}: ${fetchContenders
        .map((c) => `${c.id} ${times.get(c.id)!.at(-1)!.toFixed(2)} µs`)
        .join(', ')}`,
    )
    await settle(1)
  }
  return fetchContenders.map((c) => ({
    contender: c.id,
    runs,
    usPerRequest: median(times.get(c.id)!),
    ratio: median(ratios.get(c.id)!),
    p25Ratio: quantile(ratios.get(c.id)!, 0.25),
    p75Ratio: quantile(ratios.get(c.id)!, 0.75),
  }))
}
