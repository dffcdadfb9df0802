import type { SessionSnapshot } from '@tokenflight/core'
import { act, render, renderHook, screen } from '@testing-library/react'
import type { ReactNode } from 'react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SessionProvider, useSession } from '../index'
import { createHarness, demoUser, holdNext, useMockServer } from './harness'

useMockServer()

const shallowEqual = <T extends Record<string, unknown>>(a: T, b: T) =>
  Object.keys(a).length === Object.keys(b).length &&
  Object.keys(a).every((key) => Object.is(a[key], b[key]))

describe('useSession', () => {
  // React warns on the console when getSnapshot is not cached; none of these may warn.
  let consoleError: ReturnType<typeof vi.spyOn>
  beforeEach(() => {
    consoleError = vi.spyOn(console, 'error')
  })
  afterEach(() => {
    expect(consoleError).not.toHaveBeenCalled()
    consoleError.mockRestore()
  })

  it('returns the whole snapshot without a selector', async () => {
    const { session } = createHarness()
    const wrapper = ({ children }: { children: ReactNode }) => (
      <SessionProvider session={session}>{children}</SessionProvider>
    )
    const { result } = renderHook(() => useSession(), { wrapper })
    expect(result.current).toBe(session.getSnapshot())
    await act(() => session.login(demoUser))
    expect(result.current).toBe(session.getSnapshot())
    expect(result.current.status).toBe('authenticated')
  })

  it('re-renders a component only when its selected value changes', async () => {
    const { session } = createHarness()
    const renders = {
      signedIn: 0,
      status: 0,
      generation: 0,
      shallow: 0,
      fresh: 0,
    }
    const seen: boolean[] = []

    function SignedIn() {
      const signedIn = useSession((s) => s.tokens !== null)
      renders.signedIn++
      seen.push(signedIn)
      return <p data-testid="signed-in">{String(signedIn)}</p>
    }
    function Status() {
      const status = useSession((s) => s.status)
      renders.status++
      return <p>{status}</p>
    }
    function Generation() {
      const generation = useSession((s) => s.generation)
      renders.generation++
      return <p>{generation}</p>
    }
    function Shallow() {
      const view = useSession(
        (s: SessionSnapshot) => ({ signedIn: s.tokens !== null, user: 'demo' }),
        shallowEqual,
      )
      renders.shallow++
      return <p>{String(view.signedIn)}</p>
    }
    function Fresh() {
      // A new object on every call and no isEqual: re-renders on every change, but never loops.
      const view = useSession((s) => ({ status: s.status }))
      renders.fresh++
      return <p>{view.status}</p>
    }
    render(
      <SessionProvider session={session}>
        <SignedIn />
        <Status />
        <Generation />
        <Shallow />
        <Fresh />
      </SessionProvider>,
    )
    expect(renders).toEqual({
      signedIn: 1,
      status: 1,
      generation: 1,
      shallow: 1,
      fresh: 1,
    })

    await act(() => session.login(demoUser))
    expect(screen.getByTestId('signed-in').textContent).toBe('true')
    expect(renders.signedIn).toBe(2)
    expect(renders.shallow).toBe(2)
    const before = { ...renders }

    // A refresh changes tokens and generation and goes authenticated → refreshing → authenticated;
    // the gate makes React commit the 'refreshing' state on its own.
    const held = holdNext('/refresh')
    let refreshing: Promise<unknown> = Promise.resolve()
    await act(async () => {
      refreshing = session.refresh()
      await held.reached
    })
    expect(renders.status).toBe(before.status + 1)
    held.release()
    await act(() => refreshing)
    expect(renders.signedIn).toBe(before.signedIn)
    expect(renders.shallow).toBe(before.shallow)
    expect(renders.status).toBe(before.status + 2)
    expect(renders.generation).toBe(before.generation + 1)
    expect(renders.fresh).toBeGreaterThanOrEqual(before.fresh + 2)
    expect(seen).toEqual([false, true])

    await act(() => session.logout())
    expect(screen.getByTestId('signed-in').textContent).toBe('false')
    expect(renders.signedIn).toBe(before.signedIn + 1)
  })

  it('re-runs a selector that changed with props, without a store change', () => {
    const { session } = createHarness()
    function Is({ wanted }: { wanted: string }) {
      const is = useSession((s) => s.status === wanted)
      return <p data-testid="is">{String(is)}</p>
    }
    const { rerender } = render(
      <SessionProvider session={session}>
        <Is wanted="anonymous" />
      </SessionProvider>,
    )
    expect(screen.getByTestId('is').textContent).toBe('true')
    rerender(
      <SessionProvider session={session}>
        <Is wanted="authenticated" />
      </SessionProvider>,
    )
    expect(screen.getByTestId('is').textContent).toBe('false')
  })

  it('follows the provider to a new session', async () => {
    const first = createHarness().session
    const second = createHarness().session
    await second.login(demoUser)
    function Status() {
      return <p data-testid="status">{useSession((s) => s.status)}</p>
    }
    const { rerender } = render(
      <SessionProvider session={first}>
        <Status />
      </SessionProvider>,
    )
    expect(screen.getByTestId('status').textContent).toBe('anonymous')
    rerender(
      <SessionProvider session={second}>
        <Status />
      </SessionProvider>,
    )
    expect(screen.getByTestId('status').textContent).toBe('authenticated')
    await act(() => second.logout())
    expect(screen.getByTestId('status').textContent).toBe('anonymous')
  })
})
