import { describe, expect, it } from 'vitest'
import { createAuthServer } from '../authServer.ts'
import {
  login,
  manualClock,
  me,
  modes,
  refresh,
  serverPerTest,
  type TokenBody,
} from './helpers.ts'

/** `count` refreshes with one token, all sent before any answer arrives. */
async function burst(url: string, token: string, count = 20) {
  const responses = await Promise.all(
    Array.from({ length: count }, () => refresh(url, token)),
  )
  return Promise.all(
    responses.map(async (r) => ({
      status: r.status,
      body: (await r.json()) as TokenBody & { error?: string },
    })),
  )
}

const ok = (answers: Array<{ status: number }>) =>
  answers.filter((a) => a.status === 200).length

describe.each(modes)('reuse policies over %s', (mode) => {
  const start = serverPerTest(mode)

  describe("'strict' (the default)", () => {
    it.each([
      ['no option', {}],
      ["reuse: 'strict'", { reuse: 'strict' as const }],
      ['reuseIntervalSec: 0', { reuseIntervalSec: 0 }],
    ])(
      '%s: 20 concurrent refreshes with one token → exactly one success, then the family is revoked',
      async (_name, options) => {
        const { server, url } = await start(options)
        const tokens = await login(url)
        const answers = await burst(url, tokens.refresh_token)
        expect(ok(answers)).toBe(1)
        expect(answers.filter((a) => a.status === 400)).toHaveLength(19)
        for (const a of answers.filter((a) => a.status === 400))
          expect(a.body.error).toBe('invalid_grant')
        expect(server.stats).toMatchObject({
          refreshes: 1,
          rotations: 1,
          failedRefreshes: 19,
          reuseDetections: 1,
          revokedFamilies: 1,
        })
        // The one success belongs to the revoked family too.
        const winner = answers.find((a) => a.status === 200)!.body
        expect((await me(url, winner.access_token)).status).toBe(401)
        expect((await refresh(url, winner.refresh_token)).status).toBe(400)
      },
    )
  })

  describe('{ intervalSec } (Auth0/Okta-like grace)', () => {
    it('20 concurrent refreshes with one token inside the interval all succeed, each with its own child', async () => {
      const { server, url } = await start({ reuse: { intervalSec: 30 } })
      const tokens = await login(url)
      const answers = await burst(url, tokens.refresh_token)
      expect(ok(answers)).toBe(20)
      const children = new Set(answers.map((a) => a.body.refresh_token))
      expect(children.size).toBe(20)
      expect(server.stats).toMatchObject({
        refreshes: 20,
        rotations: 1,
        reuseDetections: 0,
      })
      const outcomes = server.audit
        .filter((e) => e.event === 'refresh')
        .map((e) => e.outcome)
      expect(outcomes.filter((o) => o === 'rotated')).toHaveLength(1)
      expect(outcomes.filter((o) => o === 'reuse_interval')).toHaveLength(19)
    })

    it('once a child rotates, the parent is a grandparent: 20 concurrent replays revoke the family', async () => {
      const clock = manualClock()
      const { server, url } = await start({
        now: clock.now,
        reuse: { intervalSec: 30 },
      })
      const first = await login(url)
      const child = (await (
        await refresh(url, first.refresh_token)
      ).json()) as TokenBody
      const grandchild = (await (
        await refresh(url, child.refresh_token)
      ).json()) as TokenBody
      clock.advance(1_000) // well inside the interval
      const answers = await burst(url, first.refresh_token)
      expect(ok(answers)).toBe(0)
      expect(server.stats).toMatchObject({
        reuseDetections: 1,
        revokedFamilies: 1,
      })
      expect((await me(url, grandchild.access_token)).status).toBe(401)
    })

    it('reuseIntervalSec is the same policy', async () => {
      const { server, url } = await start({ reuseIntervalSec: 30 })
      const tokens = await login(url)
      expect(ok(await burst(url, tokens.refresh_token, 5))).toBe(5)
      expect(server.stats.reuseDetections).toBe(0)
    })
  })

  describe("'parent-of-active' (Supabase-like)", () => {
    it('20 concurrent refreshes with one token all get the same child back', async () => {
      const { server, url } = await start({ reuse: 'parent-of-active' })
      const tokens = await login(url)
      const answers = await burst(url, tokens.refresh_token)
      expect(ok(answers)).toBe(20)
      const children = new Set(answers.map((a) => a.body.refresh_token))
      expect(children.size).toBe(1)
      // Each answer has its own, working access token.
      const access = new Set(answers.map((a) => a.body.access_token))
      expect(access.size).toBe(20)
      for (const token of [...access].slice(0, 3))
        expect((await me(url, token)).status).toBe(200)
      expect(server.stats).toMatchObject({
        refreshes: 20,
        rotations: 1,
        reuseDetections: 0,
      })
      // The child is a normal token: it rotates once.
      const [child] = children
      expect((await refresh(url, child!)).status).toBe(200)
      expect(server.stats.rotations).toBe(2)
    })

    it('hands the child back with no time limit, while the child is unused', async () => {
      const clock = manualClock()
      const { url } = await start({
        now: clock.now,
        reuse: 'parent-of-active',
      })
      const first = await login(url)
      const child = (await (
        await refresh(url, first.refresh_token)
      ).json()) as TokenBody
      clock.advance(3_600_000)
      const again = (await (
        await refresh(url, first.refresh_token)
      ).json()) as TokenBody
      expect(again.refresh_token).toBe(child.refresh_token)
    })

    it('the parent of a used child is a replay: the family is revoked', async () => {
      const { server, url } = await start({ reuse: 'parent-of-active' })
      const first = await login(url)
      const child = (await (
        await refresh(url, first.refresh_token)
      ).json()) as TokenBody
      const grandchild = (await (
        await refresh(url, child.refresh_token)
      ).json()) as TokenBody
      const replay = await refresh(url, first.refresh_token)
      expect(replay.status).toBe(400)
      expect(server.stats).toMatchObject({
        reuseDetections: 1,
        revokedFamilies: 1,
      })
      expect((await refresh(url, grandchild.refresh_token)).status).toBe(400)
      // Its own parent (the child) is now a replay as well, never handed back.
      expect((await refresh(url, child.refresh_token)).status).toBe(400)
    })

    it('a revoked family hands nothing back', async () => {
      const { server, url } = await start({ reuse: 'parent-of-active' })
      const first = await login(url)
      await refresh(url, first.refresh_token)
      server.revokeSessions()
      expect((await refresh(url, first.refresh_token)).status).toBe(400)
    })
  })
})

describe('reuse options', () => {
  it('rejects both forms at once, and unknown policies', () => {
    expect(() =>
      createAuthServer({ reuse: 'strict', reuseIntervalSec: 5 }),
    ).toThrow(RangeError)
    expect(() =>
      createAuthServer({ reuse: 'lenient' as unknown as 'strict' }),
    ).toThrow(/reuse must be/)
    expect(() => createAuthServer({ reuse: { intervalSec: -1 } })).toThrow(
      /intervalSec/,
    )
  })
})
