// todos.test.tsx: a React component tested against the mock auth server (vitest + jsdom).
import { attachSession } from '@tokenflight/axios'
import { createSession, oauth2Client } from '@tokenflight/core'
import {
  authHandlers,
  createAuthServer,
  DEFAULT_USER,
} from '@tokenflight/mock-server'
import { SessionProvider, useAuth, useLogin } from '@tokenflight/react'
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import axios, { type AxiosInstance } from 'axios'
import { setupServer } from 'msw/node'
import { useEffect, useState } from 'react'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'

// --- Your app's component (in your app it imports `api` from your module). ---
type Todo = { id: number; title: string; done: boolean }

function Todos({ api }: { api: AxiosInstance }) {
  const { status } = useAuth()
  const { login, error } = useLogin()
  const [todos, setTodos] = useState<Todo[]>([])
  useEffect(() => {
    if (status !== 'authenticated') return
    // A failed refresh shows as status 'expired' below: nothing else to do with the error here.
    api.get<Todo[]>('/todos').then(
      ({ data }) => setTodos(data),
      () => {},
    )
  }, [api, status])
  if (status === 'anonymous' || status === 'expired') {
    return (
      <form
        onSubmit={(event) => {
          event.preventDefault()
          void login(DEFAULT_USER)
        }}
      >
        {status === 'expired' && <p>Your session expired: sign in again.</p>}
        {error && <p role="alert">{error.message}</p>}
        <button type="submit">Sign in</button>
      </form>
    )
  }
  const add = async () => {
    const { data } = await api.post<Todo>('/todos', { title: 'Write tests' })
    setTodos((list) => [...list, data])
  }
  return (
    <>
      <ul>
        {todos.map((todo) => (
          <li key={todo.id}>{todo.title}</li>
        ))}
      </ul>
      <button onClick={() => void add()}>Add</button>
    </>
  )
}

// --- The test setup: one MSW server per file, everything else per test. ---
const baseUrl = 'http://api.test'
const msw = setupServer()
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  cleanup() // unmount what the test rendered (automatic only with vitest `globals`)
  msw.resetHandlers() // drop this test's auth server
})
afterAll(() => msw.close())

/** A fresh auth server, session and axios instance: no test sees another's tokens. */
function setup() {
  const auth = createAuthServer()
  msw.use(...authHandlers(auth, { baseUrl }))
  const session = createSession(oauth2Client({ baseUrl }))
  const api = axios.create({ baseURL: baseUrl })
  attachSession(api, session)
  render(
    <SessionProvider session={session}>
      <Todos api={api} />
    </SessionProvider>,
  )
  return { auth, session, api }
}

/** Clicks "Sign in" and waits for the list the server seeds for every user. */
async function signIn() {
  fireEvent.click(screen.getByText('Sign in'))
  await screen.findByText('Watch tokenflight refresh it once')
}

it('signs in, lists the to-dos, adds one', async () => {
  setup()
  await signIn()
  fireEvent.click(screen.getByText('Add'))
  await screen.findByText('Write tests')
})

it('refreshes once when the access token expires, and the user sees nothing', async () => {
  const { auth } = setup()
  await signIn()
  auth.expireAccessTokens() // every access token issued so far now gets a 401
  fireEvent.click(screen.getByText('Add'))
  await screen.findByText('Write tests')
  expect(auth.stats.refreshes).toBe(1)
  expect(auth.stats.unauthorized).toBe(1)
})

it('holds every request while the one refresh is in flight (a gate, not a sleep)', async () => {
  const { auth, api } = setup()
  await signIn()
  auth.expireAccessTokens()
  let open!: () => void
  auth.inject({
    endpoint: 'refresh',
    kind: 'gate',
    until: new Promise<void>((resolve) => (open = resolve)),
  })
  const requests = Array.from({ length: 5 }, () => api.get('/todos'))
  await expect.poll(() => auth.stats.unauthorized).toBe(5) // all five got their 401
  open() // now /refresh answers
  await Promise.all(requests)
  expect(auth.stats.refreshes).toBe(1)
})

it('asks to sign in again when the server revokes the session', async () => {
  const { auth, api } = setup()
  await signIn()
  auth.revokeSessions() // e.g. "log out everywhere" from another device
  auth.expireAccessTokens()
  await act(() => expect(api.get('/todos')).rejects.toThrow())
  await screen.findByText('Your session expired: sign in again.')
})

it('shows why a sign-in failed', async () => {
  const { auth } = setup()
  auth.inject({ endpoint: 'token', kind: 'status', status: 503 })
  fireEvent.click(screen.getByText('Sign in'))
  expect((await screen.findByRole('alert')).textContent).toMatch(/503/)
})
