// holdForLogin in a React app: a save that meets a dead session is held while a sign-in
// dialog shows over the editor, and goes through once the same user signs in again; another
// user, or the deadline, fails it instead. Real axios against the mock server's MSW handlers.
import { attachSession } from '@tokenflight/axios'
import { createSession, oauth2Client } from '@tokenflight/core'
import type { Session } from '@tokenflight/core'
import {
  authHandlers,
  createAuthServer,
  DEFAULT_USER,
} from '@tokenflight/mock-server'
import { SessionProvider, useAuth } from '@tokenflight/react'
import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import axios, { type AxiosInstance } from 'axios'
import { setupServer } from 'msw/node'
import { useState } from 'react'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'

const MALLORY = { username: 'mallory', password: 'mallory-password' }

function Editor({ api }: { api: AxiosInstance }) {
  const { heldUntil, login } = useAuth()
  const [title, setTitle] = useState('')
  const [result, setResult] = useState('')
  const save = () =>
    api.post<{ title: string }>('/todos', { title }).then(
      ({ data }) => setResult(`Saved: ${data.title}`),
      (error: Error) => setResult(`Not saved: ${error.name}`),
    )
  return (
    <>
      <input
        aria-label="title"
        value={title}
        onChange={(e) => setTitle(e.target.value)}
      />
      <button onClick={() => void save()}>Save</button>
      <p data-testid="result">{result}</p>
      {heldUntil !== null && (
        <div role="dialog">
          <p>Your session expired. Sign in to save your work.</p>
          <button onClick={() => void login(DEFAULT_USER).catch(() => {})}>
            Sign in as demo
          </button>
          <button onClick={() => void login(MALLORY).catch(() => {})}>
            Sign in as mallory
          </button>
        </div>
      )}
    </>
  )
}

const baseUrl = 'http://api.test'
const msw = setupServer()
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  cleanup()
  msw.resetHandlers()
})
afterAll(() => msw.close())

async function setup(timeoutMs = 60_000) {
  const auth = createAuthServer({ users: [DEFAULT_USER, MALLORY] })
  msw.use(...authHandlers(auth, { baseUrl }))
  const session: Session = createSession({
    ...oauth2Client({ baseUrl }),
    holdForLogin: { timeoutMs },
  })
  const api = axios.create({ baseURL: baseUrl })
  attachSession(api, session)
  await session.login(DEFAULT_USER)
  render(
    <SessionProvider session={session}>
      <Editor api={api} />
    </SessionProvider>,
  )
  fireEvent.change(screen.getByLabelText('title'), {
    target: { value: 'Quarterly report' },
  })
  // The session dies on the server while the user types: the next request's refresh fails.
  auth.revokeSessions()
  auth.expireAccessTokens()
  fireEvent.click(screen.getByText('Save'))
  await screen.findByRole('dialog')
  return { auth, session, api }
}

/** The titles the signed-in user's to-do list holds on the server. */
const titles = async (api: AxiosInstance) =>
  (await api.get<Array<{ title: string }>>('/todos')).data.map((t) => t.title)

it('holds the save behind a sign-in dialog and sends it once the same user signs in', async () => {
  const { auth, session, api } = await setup()
  expect(session.getSnapshot().status).toBe('expired')
  // What the user typed is still there, and nothing was saved or failed yet.
  expect(screen.getByLabelText<HTMLInputElement>('title').value).toBe(
    'Quarterly report',
  )
  expect(screen.getByTestId('result').textContent).toBe('')
  fireEvent.click(screen.getByText('Sign in as demo'))
  await screen.findByText('Saved: Quarterly report')
  expect(screen.queryByRole('dialog')).toBeNull()
  expect(await titles(api)).toContain('Quarterly report')
  expect(auth.stats.refreshes).toBe(0) // the one refresh was refused
  expect(auth.stats.failedRefreshes).toBe(1)
})

it('another user signing in fails the save: it is never sent as them', async () => {
  const { api } = await setup()
  fireEvent.click(screen.getByText('Sign in as mallory'))
  await screen.findByText('Not saved: RefreshError')
  expect(await titles(api)).not.toContain('Quarterly report')
})

it('the deadline fails the save and closes the dialog', async () => {
  await setup(50)
  await screen.findByText('Not saved: RefreshError')
  expect(screen.queryByRole('dialog')).toBeNull()
})
