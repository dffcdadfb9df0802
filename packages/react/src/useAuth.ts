import type {
  SessionSnapshot,
  SessionStatus,
  TokenSet,
  TokenflightError,
} from '@tokenflight/core'
import { useMemo } from 'react'
import { useSessionInstance } from './SessionProvider'
import { useSession } from './useSession'

export type UseAuthResult = {
  status: SessionStatus
  /** true while the session holds tokens: 'authenticated' or 'refreshing'. */
  isAuthenticated: boolean
  /** The last refresh failure (e.g. why the session is 'expired'), or null. */
  error: TokenflightError | null
  /**
   * With the session's `holdForLogin`: requests are held until then (epoch ms) for a sign-in
   * of the same user. Show a sign-in dialog over the page, not a sign-in page: whatever the
   * user was doing (say, a form being saved) goes on after `login()`. null otherwise.
   */
  heldUntil: number | null
  /** session.login: rejects when the login fails. For pending/error state use `useLogin()`. */
  login: (credentials: unknown) => Promise<TokenSet>
  logout: () => Promise<void>
  refresh: () => Promise<TokenSet>
}

/** 'refreshing' counts: the tokens are still there, and protected UI must not unmount on every refresh. */
export const isSignedIn = (status: SessionStatus): boolean =>
  status === 'authenticated' || status === 'refreshing'
const selectStatus = (s: SessionSnapshot) => s.status
const selectError = (s: SessionSnapshot) => s.error
// `?? null`: a hand-written Session's snapshot may not have it.
const selectHeldUntil = (s: SessionSnapshot) => s.heldUntil ?? null

/** Auth state and actions. The functions keep their identity for the life of the session. */
export function useAuth(): UseAuthResult {
  const session = useSessionInstance()
  const status = useSession(selectStatus)
  const error = useSession(selectError)
  const heldUntil = useSession(selectHeldUntil)
  const actions = useMemo(
    () => ({
      login: (credentials: unknown) => session.login(credentials),
      logout: () => session.logout(),
      refresh: () => session.refresh(),
    }),
    [session],
  )
  return {
    status,
    isAuthenticated: isSignedIn(status),
    error,
    heldUntil,
    ...actions,
  }
}
