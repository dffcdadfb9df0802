// Two tabs of one app, each with its own session and React tree, over one shared storage
// (the core tests' shared medium: a version-guarded record, a lock, change notices). The app
// code is the usual SessionProvider + hooks; nothing is added for the other tab. The same in a
// real browser (IndexedDB, Web Locks, BroadcastChannel): e2e/browser.
import { createAuthServer } from '@tokenflight/mock-server'
import { act, render, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { sharedMedium } from '../../../core/src/__tests__/sharedMedium'
import { SessionProvider, useAuth, useSession } from '../index'
import { createHarness, demoUser, useMockServer } from './harness'

useMockServer()

function Status({ tab }: { tab: string }) {
  const { status, isAuthenticated } = useAuth()
  const generation = useSession((s) => s.generation)
  return (
    <p data-testid={tab}>
      {status} {String(isAuthenticated)} {generation}
    </p>
  )
}

function twoTabs() {
  const auth = createAuthServer()
  const medium = sharedMedium()
  const a = createHarness({ auth, storage: medium.holder() })
  const b = createHarness({ auth, storage: medium.holder() })
  render(
    <>
      <SessionProvider session={a.session}>
        <Status tab="a" />
      </SessionProvider>
      <SessionProvider session={b.session}>
        <Status tab="b" />
      </SessionProvider>
    </>,
  )
  return { auth, a, b }
}

const shows = (tab: string, text: RegExp) =>
  screen.findByText(text, { selector: `[data-testid="${tab}"]` })

describe('useSession across tabs', () => {
  it("follows another tab's login and logout with no extra code", async () => {
    const { a, b } = twoTabs()
    expect(screen.getByTestId('b').textContent).toBe('anonymous false 0')
    await act(() => a.session.login(demoUser))
    await shows('b', /^authenticated true 1$/)
    await act(() => a.session.logout())
    await shows('b', /^anonymous false 2$/)
    await act(() => b.session.login(demoUser))
    await shows('a', /^authenticated true 3$/)
  })

  it("follows another tab's refresh: one refresh, both trees on the new generation", async () => {
    const { auth, a, b } = twoTabs()
    await act(() => a.session.login(demoUser))
    await shows('b', /^authenticated true 1$/)
    await act(async () => {
      await a.session.refresh()
    })
    await shows('b', /^authenticated true 2$/)
    expect(b.session.getSnapshot().tokens).toEqual(
      a.session.getSnapshot().tokens,
    )
    // b's next request goes out with a's new token: no second refresh.
    expect(await b.session.getAccessToken()).toBe(
      a.session.getSnapshot().tokens?.accessToken,
    )
    expect((await b.api.get('/me')).status).toBe(200)
    expect(auth.stats.refreshes).toBe(1)
  })
})
