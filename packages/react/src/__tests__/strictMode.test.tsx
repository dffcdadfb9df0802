import { act, render, screen } from '@testing-library/react'
import type { AxiosInstance } from 'axios'
import { StrictMode, useEffect, useState } from 'react'
import { describe, expect, it } from 'vitest'
import {
  Authenticated,
  SessionProvider,
  useAuth,
  useLogin,
  useSession,
  useSessionEvent,
} from '../index'
import { createHarness, demoUser, useMockServer } from './harness'

useMockServer()

/** Fires 5 requests on mount, the way a dashboard loads its widgets. */
function Dashboard({ api, abort }: { api: AxiosInstance; abort: boolean }) {
  const [loaded, setLoaded] = useState<number | null>(null)
  const [failed, setFailed] = useState<string | null>(null)
  useEffect(() => {
    const controller = new AbortController()
    const requests = Array.from({ length: 5 }, () =>
      api.get('/todos', abort ? { signal: controller.signal } : {}),
    )
    Promise.all(requests).then(
      (responses) => setLoaded(responses.length),
      (error: unknown) => {
        if (!controller.signal.aborted) setFailed(String(error))
      },
    )
    return () => {
      if (abort) controller.abort()
    }
  }, [api, abort])
  if (failed) return <p>failed: {failed}</p>
  return <p>{loaded === null ? 'loading' : `${loaded} loaded`}</p>
}

describe('StrictMode', () => {
  it.each([
    ['effects that do not abort (10 requests go out)', false],
    ['effects that abort on cleanup', true],
  ])(
    '5 requests on mount with a stale token cause exactly 1 refresh: %s',
    async (_name, abort) => {
      const { auth, session, api } = createHarness()
      await session.login(demoUser)
      // The server no longer accepts the access token the client still holds.
      auth.expireAccessTokens()
      render(
        <StrictMode>
          <SessionProvider session={session}>
            <Dashboard api={api} abort={abort} />
          </SessionProvider>
        </StrictMode>,
      )
      await screen.findByText('5 loaded')
      expect(auth.stats.refreshes).toBe(1)
      // The token really was stale: the server turned the burst away before the one refresh.
      expect(auth.stats.unauthorized).toBeGreaterThanOrEqual(5)
      expect(session.getSnapshot().status).toBe('authenticated')
    },
  )

  it('mounting every hook and component never refreshes, even inside the leeway', async () => {
    const { auth, session } = createHarness()
    await session.login(demoUser)
    const tokens = session.getSnapshot().tokens
    if (!tokens) throw new Error('login stored no tokens')
    // Due for an early refresh: only a call to getAccessToken()/refresh() would start one.
    await session.setTokens({ ...tokens, expiresAt: Date.now() + 1_000 })
    const generation = session.getSnapshot().generation

    function Everything() {
      const { status } = useAuth()
      useSession()
      useSession((s) => s.tokens !== null)
      useLogin()
      useSessionEvent('refreshed', () => {})
      return <p>{status}</p>
    }
    await act(async () => {
      render(
        <StrictMode>
          <SessionProvider session={session}>
            <Authenticated>
              <Everything />
            </Authenticated>
          </SessionProvider>
        </StrictMode>,
      )
    })
    expect(screen.getByText('authenticated')).toBeTruthy()
    expect(auth.stats.refreshes).toBe(0)
    expect(session.getSnapshot().generation).toBe(generation)
  })
})
