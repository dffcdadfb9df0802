import { isTokenflightError, RefreshError } from '@tokenflight/core'
import {
  act,
  fireEvent,
  render,
  renderHook,
  screen,
} from '@testing-library/react'
import { useEffect, useState, type ReactNode } from 'react'
import { describe, expect, it, vi } from 'vitest'
import {
  Authenticated,
  SessionProvider,
  useAuth,
  useLogin,
  useSession,
  useSessionEvent,
  useSessionInstance,
} from '../index'
import { createHarness, demoUser, holdNext, useMockServer } from './harness'

useMockServer()

function AuthPanel({ log }: { log: string[] }) {
  const { status, isAuthenticated, error, login, logout, refresh } = useAuth()
  const generation = useSession((s) => s.generation)
  useEffect(() => {
    log.push(status)
  }, [log, status])
  return (
    <div>
      <p data-testid="status">{status}</p>
      <p data-testid="signed-in">{String(isAuthenticated)}</p>
      <p data-testid="generation">{generation}</p>
      <p data-testid="error">{error ? error.name : 'none'}</p>
      <button onClick={() => void login(demoUser)}>login</button>
      <button onClick={() => void refresh()}>refresh</button>
      <button onClick={() => void logout()}>logout</button>
    </div>
  )
}

const text = (id: string) => screen.getByTestId(id).textContent

describe('useAuth', () => {
  it('follows the session through login → refresh → logout', async () => {
    const { auth, session } = createHarness()
    const log: string[] = []
    render(
      <SessionProvider session={session}>
        <AuthPanel log={log} />
      </SessionProvider>,
    )
    expect(text('status')).toBe('anonymous')
    expect(text('signed-in')).toBe('false')

    fireEvent.click(screen.getByText('login'))
    await screen.findByText('authenticated')
    expect(text('signed-in')).toBe('true')
    const afterLogin = Number(text('generation'))

    const held = holdNext('/refresh')
    fireEvent.click(screen.getByText('refresh'))
    await act(() => held.reached)
    expect(text('status')).toBe('refreshing')
    // Still signed in while the refresh is in flight: the tokens are there.
    expect(text('signed-in')).toBe('true')
    held.release()
    await screen.findByText('authenticated')
    expect(Number(text('generation'))).toBe(afterLogin + 1)
    expect(auth.stats.refreshes).toBe(1)

    fireEvent.click(screen.getByText('logout'))
    await screen.findByText('anonymous')
    expect(text('signed-in')).toBe('false')
    expect(Number(text('generation'))).toBe(afterLogin + 2)
    expect(log).toEqual([
      'anonymous',
      'authenticated',
      'refreshing',
      'authenticated',
      'anonymous',
    ])
  })

  it('shows expired and the error when the refresh token is rejected', async () => {
    const { auth, session, api } = createHarness()
    await act(() => session.login(demoUser))

    function Todos() {
      const { status, error } = useAuth()
      const [failure, setFailure] = useState<unknown>(null)
      return (
        <div>
          <p data-testid="status">{status}</p>
          <p data-testid="error">
            {error ? `${error.name}:${String(isTerminal(error))}` : 'none'}
          </p>
          <p data-testid="request">
            {failure instanceof Error ? failure.name : 'none'}
          </p>
          <button onClick={() => api.get('/todos').catch(setFailure)}>
            load
          </button>
        </div>
      )
    }
    render(
      <SessionProvider session={session}>
        <Todos />
        <Authenticated fallback={<p>please sign in</p>}>
          <p>secret</p>
        </Authenticated>
      </SessionProvider>,
    )
    expect(screen.getByText('secret')).toBeTruthy()

    auth.expireAccessTokens()
    auth.inject({
      endpoint: 'refresh',
      kind: 'status',
      status: 400,
      body: { error: 'invalid_grant' },
    })
    fireEvent.click(screen.getByText('load'))
    await screen.findByText('expired')
    expect(text('error')).toBe('RefreshError:true')
    await screen.findByText('RefreshError')
    expect(screen.getByText('please sign in')).toBeTruthy()
    expect(screen.queryByText('secret')).toBeNull()
    expect(session.getSnapshot().tokens).toBeNull()
  })

  it('keeps login, logout and refresh identities across renders', async () => {
    const { session } = createHarness()
    const wrapper = ({ children }: { children: ReactNode }) => (
      <SessionProvider session={session}>{children}</SessionProvider>
    )
    const { result } = renderHook(() => useAuth(), { wrapper })
    const first = result.current
    await act(() => session.login(demoUser))
    expect(result.current.status).toBe('authenticated')
    expect(result.current.login).toBe(first.login)
    expect(result.current.logout).toBe(first.logout)
    expect(result.current.refresh).toBe(first.refresh)
  })

  it('throws a clear TokenflightError outside a SessionProvider', () => {
    // React reports the uncaught render error on the console (and React 18 through jsdom's
    // window 'error' event); that noise is expected here.
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {})
    const swallow = (event: ErrorEvent) => event.preventDefault()
    window.addEventListener('error', swallow)
    const hooks = [
      () => useSession(),
      () => useAuth(),
      () => useLogin(),
      () => useSessionInstance(),
      () => useSessionEvent('refreshed', () => {}),
      () => Authenticated({ children: null }),
    ]
    try {
      for (const hook of hooks) {
        let thrown: unknown
        try {
          renderHook(hook)
        } catch (error) {
          thrown = error
        }
        expect(isTokenflightError(thrown)).toBe(true)
        expect((thrown as Error).message).toMatch(/inside <SessionProvider/)
      }
    } finally {
      window.removeEventListener('error', swallow)
      quiet.mockRestore()
    }
  })

  it('<SessionProvider> with no session fails at once, naming the prop and the fix', () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {})
    const swallow = (event: ErrorEvent) => event.preventDefault()
    window.addEventListener('error', swallow)
    const { session } = createHarness()
    const cases: Array<[unknown, RegExp]> = [
      [undefined, /got undefined,/],
      [null, /got null,/],
      [Promise.resolve(session), /got object,/],
      [() => session, /got function,/],
      [{ accessToken: 'secret-token' }, /got object,/],
      ['secret-token', /got string,/],
    ]
    try {
      for (const [value, kind] of cases) {
        let thrown: unknown
        try {
          // No hook below it: the provider itself must refuse the value.
          render(
            <SessionProvider session={value as never}>child</SessionProvider>,
          )
        } catch (error) {
          thrown = error
        }
        expect(isTokenflightError(thrown)).toBe(true)
        const message = (thrown as Error).message
        expect(message).toMatch(/^<SessionProvider session> got /)
        expect(message).toMatch(kind)
        expect(message).toContain(
          'not a session: pass what createSession() returns, created once outside your components',
        )
        expect(message).not.toContain('secret-token')
      }
    } finally {
      window.removeEventListener('error', swallow)
      quiet.mockRestore()
    }
  })
})

function isTerminal(error: unknown): boolean {
  return error instanceof RefreshError && error.terminal
}
