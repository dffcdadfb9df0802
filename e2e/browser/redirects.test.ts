// Where the token goes in a real Chromium when the page or the server points a request
// elsewhere: a `<base href>` to another origin, and redirects from an allowed origin to
// another. Through createFetch and through axios with attachSession, on its XHR adapter (the
// browser default) and on its fetch adapter. The other origin is a recorder whose CORS lets
// anything through: what Chromium would send it, it gets.
//
// What Chromium does on its own (measured here, Chromium 156): it drops `Authorization` on a
// redirect to another origin (fetch and XHR alike, Fetch standard); it carries any other header,
// after a preflight from origin `null`, to whatever origin the redirect names. So a token in
// a custom header is never sent out with a redirect left to the browser: the libraries send
// it with redirect 'manual' and reject a redirect answer with UnsafeRedirectError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bundleTab,
  count,
  launchProfile,
  servePage,
  startApi,
  startRecorder,
} from './harness'
import type { Api, Received, Recorder } from './harness'
import type { Outcome, Sent } from './page/requests'
import type { Page } from 'playwright-core'

let page: Awaited<ReturnType<typeof servePage>>
let profile: Awaited<ReturnType<typeof launchProfile>>
let api: Api
// `allowed`: the origin the token may go to, which redirects; `other`: any other origin.
let allowed: Recorder
let other: Recorder

beforeAll(async () => {
  ;[page, profile, api, allowed, other] = await Promise.all([
    bundleTab('page/requests.ts').then(servePage),
    launchProfile(),
    startApi(),
    startRecorder(),
    startRecorder(),
  ])
}, 60_000)

afterAll(async () => {
  await profile?.close()
  await Promise.all([page, api, allowed, other].map((s) => s?.close()))
  expect(profile.pageErrors).toEqual([])
})

/** A tab of the requests page at `path`, signed in: the tab and its access token. */
async function open(path = '') {
  const tab = await profile.context.newPage()
  tab.setDefaultTimeout(10_000)
  await tab.goto(`${page.url}${path}`)
  await tab.waitForFunction(() => 'requests' in window, null, { polling: 10 })
  const token = await tab.evaluate((u) => window.requests.login(u), api.url)
  return { tab, token }
}

const send = (tab: Page, sent: Sent): Promise<Outcome> =>
  tab.evaluate((s) => window.requests.send(s), sent)

/** The names of the headers of `seen` that carry `token`, request by request. */
const carrying = (seen: Received[], token: string) =>
  seen.flatMap((r) =>
    Object.entries(r.headers).some(([, v]) => `${v}`.includes(token))
      ? [`${r.method} ${r.path}`]
      : [],
  )

const clients = ['fetch', 'axios', 'axios-fetch'] as const

describe('<base href> to another origin, in Chromium', () => {
  let tab: Page
  let token: string

  beforeAll(async () => {
    ;({ tab, token } = await open(
      `based?href=${encodeURIComponent(`${other.url}/`)}`,
    ))
  }, 30_000)
  afterAll(() => tab?.close())

  it('the page resolves relative URLs against the other origin', async () => {
    expect(await tab.evaluate(() => document.baseURI)).toBe(`${other.url}/`)
  })

  for (const client of clients)
    it(`${client}: a relative URL goes to the other origin without the token; the page's origin still gets it`, async () => {
      other.seen.length = 0
      page.seen.length = 0

      // No allowedOrigins: the default, the page's origin (what an app on its own API does).
      const relative = await send(tab, { client, url: `landing-${client}` })
      const absolute = await send(tab, {
        client,
        url: `${page.url}echo-${client}`,
      })

      expect(relative).toMatchObject({ status: 200 })
      expect(absolute).toMatchObject({ status: 200 })
      expect(other.seen.map((r) => r.path)).toContain(`/landing-${client}`)
      expect(carrying(other.seen, token)).toEqual([])
      expect(carrying(page.seen, token)).toEqual([`GET /echo-${client}`])
    })
})

describe('redirects to another origin, in Chromium', () => {
  let tab: Page
  let token: string

  beforeAll(async () => {
    ;({ tab, token } = await open())
  }, 30_000)
  afterAll(() => tab?.close())

  const redirect = (status: number, to: string) =>
    `${allowed.url}/redirect/${status}?to=${encodeURIComponent(to)}`
  const reset = () => {
    allowed.seen.length = 0
    other.seen.length = 0
  }

  for (const client of clients)
    for (const [status, method] of [
      [302, 'GET'],
      [307, 'POST'],
    ] as const)
      it(`${client}, Authorization, ${status} ${method}: Chromium follows and drops the token`, async () => {
        reset()

        const outcome = await send(tab, {
          client,
          url: redirect(status, `${other.url}/landing`),
          allowedOrigins: [allowed.url],
          method,
          ...(method === 'POST' && { body: 'payload' }),
        })

        expect(outcome).toMatchObject({ status: 200 })
        expect(carrying(allowed.seen, token)).toEqual([
          `${method} /redirect/${status}?to=${encodeURIComponent(`${other.url}/landing`)}`,
        ])
        // It arrived (from origin null, as a redirect across origins makes it), without the token.
        expect(other.seen).toMatchObject([
          { method, path: '/landing', origin: 'null' },
        ])
        expect(carrying(other.seen, token)).toEqual([])
      })

  for (const client of clients)
    for (const [status, method] of [
      [302, 'GET'],
      [307, 'POST'],
    ] as const)
      it(`${client}, X-Access-Token, ${status} ${method}: not followed, UnsafeRedirectError, nothing reaches the other origin`, async () => {
        reset()

        const outcome = await send(tab, {
          client,
          url: redirect(status, `${other.url}/landing`),
          allowedOrigins: [allowed.url],
          headerName: 'X-Access-Token',
          method,
          ...(method === 'POST' && { body: 'payload' }),
        })

        expect(outcome.error).toMatch(/^UnsafeRedirectError: /)
        expect(outcome.error).not.toContain(token)
        expect(carrying(allowed.seen, token)).toHaveLength(1)
        // Not even a preflight.
        expect(other.seen).toEqual([])
      })

  it('X-Access-Token: a redirect within the allowed origin is refused too (the browser shows no Location)', async () => {
    reset()

    const outcome = await send(tab, {
      client: 'fetch',
      url: redirect(302, `${allowed.url}/landing`),
      allowedOrigins: [allowed.url],
      headerName: 'X-Access-Token',
    })

    expect(outcome.error).toMatch(/^UnsafeRedirectError: /)
    expect(allowed.seen.map((r) => r.path)).not.toContain('/landing')
  })

  it("X-Access-Token with the caller's own redirect: 'manual': the opaque redirect is the answer", async () => {
    reset()

    const outcome = await send(tab, {
      client: 'fetch',
      url: redirect(302, `${other.url}/landing`),
      allowedOrigins: [allowed.url],
      headerName: 'X-Access-Token',
      redirect: 'manual',
    })

    expect(outcome).toMatchObject({ status: 0 })
    expect(other.seen).toEqual([])
  })

  it('Authorization to another allowed origin: Chromium drops it all the same', async () => {
    reset()

    const outcome = await send(tab, {
      client: 'fetch',
      url: redirect(302, `${other.url}/landing`),
      allowedOrigins: [allowed.url, other.url],
    })

    expect(outcome).toMatchObject({ status: 200, redirected: true })
    expect(other.seen).toMatchObject([{ path: '/landing' }])
    expect(carrying(other.seen, token)).toEqual([])
  })

  it('Authorization: a 401 from the other origin it was dropped for is an answer, no refresh', async () => {
    reset()

    const outcome = await send(tab, {
      client: 'fetch',
      url: redirect(302, `${other.url}/401`),
      allowedOrigins: [allowed.url, other.url],
    })

    expect(outcome).toMatchObject({ status: 401, redirected: true })
    expect(other.seen).toMatchObject([{ path: '/401' }])
    expect(count(api.seen, '/refresh')).toBe(0)
  })
})
