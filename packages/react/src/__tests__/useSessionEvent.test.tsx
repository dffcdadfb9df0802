import { RefreshError } from '@tokenflight/core'
import { act, fireEvent, render, screen } from '@testing-library/react'
import { StrictMode, useState } from 'react'
import { describe, expect, it, vi } from 'vitest'
import { SessionProvider, useSessionEvent } from '../index'
import { createHarness, demoUser, useMockServer } from './harness'

useMockServer()

describe('useSessionEvent', () => {
  it('calls the latest handler once per event, with one subscription per hook', async () => {
    const { auth, session } = createHarness()
    const on = vi.spyOn(session, 'on')
    const log: string[] = []

    function EventLog() {
      const [label, setLabel] = useState('a')
      useSessionEvent('refreshed', (e) =>
        log.push(`${label}:refreshed:${e.generation}`),
      )
      useSessionEvent('loggedOut', () => log.push(`${label}:loggedOut`))
      useSessionEvent('expired', (e) =>
        log.push(
          `${label}:expired:${e.error instanceof RefreshError && e.error.terminal}`,
        ),
      )
      return <button onClick={() => setLabel('b')}>relabel</button>
    }
    render(
      <StrictMode>
        <SessionProvider session={session}>
          <EventLog />
        </SessionProvider>
      </StrictMode>,
    )
    const subscriptions = on.mock.calls.length

    await act(() => session.login(demoUser))
    const loggedIn = session.getSnapshot().generation
    await act(() => session.refresh())
    expect(log).toEqual([`a:refreshed:${loggedIn + 1}`])

    // A new handler on every render, yet no resubscription and no stale closure.
    fireEvent.click(screen.getByText('relabel'))
    await act(() => session.refresh())
    await act(() => session.logout())
    expect(log).toEqual([
      `a:refreshed:${loggedIn + 1}`,
      `b:refreshed:${loggedIn + 2}`,
      'b:loggedOut',
    ])
    expect(on.mock.calls.length).toBe(subscriptions)

    await act(() => session.login(demoUser))
    auth.inject({
      endpoint: 'refresh',
      kind: 'status',
      status: 400,
      body: { error: 'invalid_grant' },
    })
    await act(() => session.refresh().catch(() => {}))
    expect(log.at(-1)).toBe('b:expired:true')
  })

  it('unsubscribes on unmount', async () => {
    const { session } = createHarness()
    const handler = vi.fn()
    function Listener() {
      useSessionEvent('loggedOut', handler)
      return null
    }
    const { unmount } = render(
      <SessionProvider session={session}>
        <Listener />
      </SessionProvider>,
    )
    await act(() => session.login(demoUser))
    unmount()
    await session.logout()
    expect(handler).not.toHaveBeenCalled()
  })
})
