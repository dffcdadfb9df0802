import { act, render, screen } from '@testing-library/react'
import { useEffect } from 'react'
import { describe, expect, it } from 'vitest'
import { Authenticated, SessionProvider } from '../index'
import { createHarness, demoUser, holdNext, useMockServer } from './harness'

useMockServer()

describe('<Authenticated>', () => {
  it('renders the fallback until signed in, and keeps children mounted through a refresh', async () => {
    const { session } = createHarness()
    const mounts: string[] = []
    function TodoList() {
      useEffect(() => {
        mounts.push('mount')
        return () => {
          mounts.push('unmount')
        }
      }, [])
      return <ul>todo list</ul>
    }
    render(
      <SessionProvider session={session}>
        <Authenticated fallback={<p>login form</p>}>
          <TodoList />
        </Authenticated>
      </SessionProvider>,
    )
    expect(screen.getByText('login form')).toBeTruthy()
    expect(screen.queryByText('todo list')).toBeNull()

    await act(() => session.login(demoUser))
    expect(screen.getByText('todo list')).toBeTruthy()
    expect(screen.queryByText('login form')).toBeNull()

    const held = holdNext('/refresh')
    let refreshing: Promise<unknown> = Promise.resolve()
    await act(async () => {
      refreshing = session.refresh()
      await held.reached
    })
    expect(session.getSnapshot().status).toBe('refreshing')
    expect(screen.getByText('todo list')).toBeTruthy()
    held.release()
    await act(() => refreshing)
    expect(mounts).toEqual(['mount'])

    await act(() => session.logout())
    expect(screen.getByText('login form')).toBeTruthy()
    expect(mounts).toEqual(['mount', 'unmount'])
  })

  it('renders nothing without a fallback', () => {
    const { session } = createHarness()
    const { container } = render(
      <SessionProvider session={session}>
        <Authenticated>
          <p>secret</p>
        </Authenticated>
      </SessionProvider>,
    )
    expect(container.innerHTML).toBe('')
  })
})
