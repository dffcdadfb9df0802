// The README's complete example, run against the mock server: login form, protected to-do
// list, logout, and an expired session. Keep the components in step with README.md.
import { act, fireEvent, render, screen } from '@testing-library/react'
import type { AxiosInstance } from 'axios'
import {
  createContext,
  StrictMode,
  useContext,
  useEffect,
  useState,
  type FormEvent,
} from 'react'
import { describe, expect, it } from 'vitest'
import {
  Authenticated,
  SessionProvider,
  useAuth,
  useLogin,
  useSessionEvent,
} from '../index'
import { createHarness, demoUser, useMockServer } from './harness'

useMockServer()

// The README imports `api` from './session'; here each test brings its own.
const Api = createContext<AxiosInstance | null>(null)
const useApi = () => {
  const api = useContext(Api)
  if (!api) throw new Error('no api')
  return api
}

function App() {
  return (
    <main>
      <SessionBanner />
      <Authenticated fallback={<LoginForm />}>
        <TodoList />
        <LogoutButton />
      </Authenticated>
    </main>
  )
}

function SessionBanner() {
  const { status } = useAuth()
  const [notice, setNotice] = useState<string | null>(null)
  useSessionEvent('expired', () =>
    setNotice('Your session expired, please sign in again.'),
  )
  useSessionEvent('refreshed', () => setNotice(null))
  return status === 'expired' && notice ? <p role="status">{notice}</p> : null
}

function LoginForm() {
  const { login, isPending, error } = useLogin()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const submit = (event: FormEvent) => {
    event.preventDefault()
    void login({ username, password })
  }
  return (
    <form onSubmit={submit}>
      <input
        aria-label="Username"
        autoComplete="username"
        value={username}
        onChange={(e) => setUsername(e.target.value)}
      />
      <input
        aria-label="Password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <button disabled={isPending}>
        {isPending ? 'Signing in…' : 'Sign in'}
      </button>
      {error && <p role="alert">Wrong username or password.</p>}
    </form>
  )
}

type Todo = { id: number; title: string; done: boolean }

function TodoList() {
  const api = useApi()
  const [todos, setTodos] = useState<Todo[] | null>(null)
  const [failed, setFailed] = useState(false)
  useEffect(() => {
    const controller = new AbortController()
    api
      .get<Todo[]>('/todos', { signal: controller.signal })
      .then((response) => setTodos(response.data))
      .catch(() => {
        if (!controller.signal.aborted) setFailed(true)
      })
    return () => controller.abort()
  }, [api])
  if (failed) return <p role="alert">Could not load your to-dos.</p>
  if (!todos) return <p>Loading…</p>
  return (
    <ul>
      {todos.map((todo) => (
        <li key={todo.id}>
          <label>
            <input type="checkbox" checked={todo.done} readOnly /> {todo.title}
          </label>
        </li>
      ))}
    </ul>
  )
}

function LogoutButton() {
  const { logout } = useAuth()
  return <button onClick={() => void logout()}>Sign out</button>
}

function signIn(password: string) {
  fireEvent.change(screen.getByLabelText('Username'), {
    target: { value: demoUser.username },
  })
  fireEvent.change(screen.getByLabelText('Password'), {
    target: { value: password },
  })
  fireEvent.click(screen.getByText('Sign in'))
}

describe('README example', () => {
  it('signs in, lists the to-dos through a refresh, and signs out', async () => {
    const { auth, session, api } = createHarness()
    render(
      <StrictMode>
        <Api.Provider value={api}>
          <SessionProvider session={session}>
            <App />
          </SessionProvider>
        </Api.Provider>
      </StrictMode>,
    )

    signIn('wrong')
    await screen.findByRole('alert')
    expect(screen.getByRole('alert').textContent).toBe(
      'Wrong username or password.',
    )

    signIn(demoUser.password)
    await screen.findByText('Let the access token expire')
    expect(screen.queryByLabelText('Password')).toBeNull()
    expect(auth.stats.refreshes).toBe(0)

    // The access token goes stale on the server; the list reloads through one refresh.
    auth.expireAccessTokens()
    await act(() => api.get('/todos'))
    expect(auth.stats.refreshes).toBe(1)
    expect(screen.getByText('Watch tokenflight refresh it once')).toBeTruthy()

    fireEvent.click(screen.getByText('Sign out'))
    await screen.findByLabelText('Password')
    expect(session.getSnapshot().status).toBe('anonymous')
    expect(screen.queryByRole('status')).toBeNull()
  })

  it('tells the user when the session expired', async () => {
    const { auth, session, api } = createHarness()
    await session.login(demoUser)
    render(
      <Api.Provider value={api}>
        <SessionProvider session={session}>
          <App />
        </SessionProvider>
      </Api.Provider>,
    )
    await screen.findByText('Let the access token expire')
    auth.revokeSessions()
    auth.expireAccessTokens()
    await act(() => api.get('/todos').catch(() => {}))
    await screen.findByRole('status')
    expect(screen.getByRole('status').textContent).toBe(
      'Your session expired, please sign in again.',
    )
    expect(screen.getByLabelText('Password')).toBeTruthy()
  })
})
