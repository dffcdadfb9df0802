import { act, fireEvent, render, screen, within } from '@testing-library/react'
import { useState } from 'react'
import { describe, expect, it } from 'vitest'
import {
  SessionProvider,
  useAuth,
  useLogin,
  type UseLoginResult,
} from '../index'
import {
  createGate,
  createHarness,
  demoUser,
  holdNext,
  useMockServer,
} from './harness'

useMockServer()

function LoginForm({
  onResult,
  identities,
}: {
  onResult: (ok: boolean) => void
  identities: Array<Pick<UseLoginResult, 'login' | 'reset'>>
}) {
  const { login, isPending, error, reset } = useLogin()
  const { status } = useAuth()
  const [password, setPassword] = useState(demoUser.password)
  identities.push({ login, reset })
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault()
        void login({ username: demoUser.username, password }).then(onResult)
      }}
    >
      <p data-testid="status">{status}</p>
      <p data-testid="pending">{String(isPending)}</p>
      <p data-testid="error">{error ? error.name : 'none'}</p>
      <input
        aria-label="password"
        value={password}
        onChange={(event) => setPassword(event.target.value)}
      />
      <button type="submit">sign in</button>
      <button type="button" onClick={reset}>
        reset
      </button>
    </form>
  )
}

const text = (id: string) => screen.getByTestId(id).textContent

describe('useLogin', () => {
  it('is pending while the login is in flight, then signed in', async () => {
    const { auth, session } = createHarness()
    const results: boolean[] = []
    const identities: Array<Pick<UseLoginResult, 'login' | 'reset'>> = []
    render(
      <SessionProvider session={session}>
        <LoginForm
          onResult={(ok) => results.push(ok)}
          identities={identities}
        />
      </SessionProvider>,
    )
    expect(text('pending')).toBe('false')

    const held = holdNext('/token')
    fireEvent.click(screen.getByText('sign in'))
    await act(() => held.reached)
    expect(text('pending')).toBe('true')
    expect(text('status')).toBe('anonymous')

    held.release()
    await screen.findByText('authenticated')
    expect(text('pending')).toBe('false')
    expect(text('error')).toBe('none')
    expect(results).toEqual([true])
    expect(auth.stats.logins).toBe(1)
    // Stable across every render of the form.
    expect(new Set(identities.map((i) => i.login)).size).toBe(1)
    expect(new Set(identities.map((i) => i.reset)).size).toBe(1)
  })

  it('keeps the error of a failed login until reset, and never rejects', async () => {
    const { session } = createHarness()
    const settled = createGate()
    const results: boolean[] = []
    render(
      <SessionProvider session={session}>
        <LoginForm
          onResult={(ok) => {
            results.push(ok)
            settled.open()
          }}
          identities={[]}
        />
      </SessionProvider>,
    )
    fireEvent.change(screen.getByLabelText('password'), {
      target: { value: 'wrong' },
    })
    fireEvent.click(screen.getByText('sign in'))
    await act(() => settled.promise)
    expect(results).toEqual([false])
    expect(text('error')).toBe('OAuth2HttpError')
    expect(text('status')).toBe('anonymous')
    expect(text('pending')).toBe('false')

    fireEvent.click(screen.getByText('reset'))
    expect(text('error')).toBe('none')
  })

  it('a login that another login superseded is not shown as an error', async () => {
    const { auth, session } = createHarness()
    const results: boolean[] = []
    const settled = createGate()
    // Two forms, e.g. a header sign-in and a page sign-in, each with its own useLogin.
    render(
      <SessionProvider session={session}>
        <div data-testid="first">
          <LoginForm
            onResult={(ok) => {
              results.push(ok)
              settled.open()
            }}
            identities={[]}
          />
        </div>
      </SessionProvider>,
    )
    const first = screen.getByTestId('first')
    const held = holdNext('/token')
    fireEvent.click(within(first).getByText('sign in'))
    await act(() => held.reached)
    // The second sign-in lands while the first one's answer is held.
    await act(() => session.login(demoUser))
    expect(text('status')).toBe('authenticated')
    held.release()
    await act(() => settled.promise)
    // The session rejected the first (SessionExpiredError): false, but no error to show.
    expect(results).toEqual([false])
    expect(within(first).getByTestId('error').textContent).toBe('none')
    expect(within(first).getByTestId('pending').textContent).toBe('false')
    expect(text('status')).toBe('authenticated')
    expect(auth.stats.logins).toBe(2)
  })

  it('ignores the answer of a login that reset() abandoned', async () => {
    const { session } = createHarness()
    const settled = createGate()
    const results: boolean[] = []
    render(
      <SessionProvider session={session}>
        <LoginForm
          onResult={(ok) => {
            results.push(ok)
            settled.open()
          }}
          identities={[]}
        />
      </SessionProvider>,
    )
    const held = holdNext('/token')
    fireEvent.change(screen.getByLabelText('password'), {
      target: { value: 'wrong' },
    })
    fireEvent.click(screen.getByText('sign in'))
    await act(() => held.reached)
    expect(text('pending')).toBe('true')
    fireEvent.click(screen.getByText('reset'))
    expect(text('pending')).toBe('false')
    held.release()
    await act(() => settled.promise)
    expect(results).toEqual([false])
    expect(text('error')).toBe('none')
  })
})
