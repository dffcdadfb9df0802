// @vitest-environment node
import { createSession, type TokenSet } from '@tokenflight/core'
import { renderToString } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import {
  Authenticated,
  SessionProvider,
  useAuth,
  useLogin,
  useSession,
  useSessionEvent,
} from '../index'

function App() {
  const { status, isAuthenticated } = useAuth()
  const generation = useSession((s) => s.generation)
  const { isPending } = useLogin()
  useSessionEvent('expired', () => {})
  return (
    <main>
      <p>{`${status}/${isAuthenticated}/${generation}/${isPending}`}</p>
      <Authenticated fallback={<form>login form</form>}>
        <ul>todo list</ul>
      </Authenticated>
    </main>
  )
}

const refreshNever = (): Promise<TokenSet> =>
  Promise.reject(new Error('a render must never refresh'))

describe('server rendering', () => {
  it('runs in Node with no window', () => {
    expect(typeof window).toBe('undefined')
    expect(typeof document).toBe('undefined')
  })

  it('renders an anonymous session with the fallback', () => {
    const session = createSession({ refresh: refreshNever })
    const html = renderToString(
      <SessionProvider session={session}>
        <App />
      </SessionProvider>,
    )
    expect(html).toContain('anonymous/false/0/false')
    expect(html).toContain('login form')
    expect(html).not.toContain('todo list')
  })

  it('renders a signed-in session from its snapshot', async () => {
    const session = createSession({ refresh: refreshNever })
    await session.setTokens({
      accessToken: 'server-side-token',
      refreshToken: 'server-side-refresh',
      expiresAt: Date.now() + 60 * 60_000,
    })
    const html = renderToString(
      <SessionProvider session={session}>
        <App />
      </SessionProvider>,
    )
    expect(html).toContain('authenticated/true/1/false')
    expect(html).toContain('todo list')
    // The snapshot holds the token; nothing rendered may leak it.
    expect(html).not.toContain('server-side-token')
    expect(session.getSnapshot().status).toBe('authenticated')
  })
})
