import { SessionExpiredError } from '@tokenflight/core'
import { useMemo, useRef, useState } from 'react'
import { useSessionInstance } from './SessionProvider'

export type UseLoginResult = {
  /**
   * Resolves true when signed in, false otherwise; never rejects. False with an `error`: the
   * login failed. False without one: another login or a logout won meanwhile (the session
   * rejects a superseded login with SessionExpiredError); that is not this form's failure.
   */
  login: (credentials: unknown) => Promise<boolean>
  isPending: boolean
  /** Why the last login failed (e.g. an OAuth2HttpError for wrong credentials), or null. */
  error: Error | null
  /** Back to idle; a login still in flight no longer updates this state. */
  reset: () => void
}

type LoginState = { isPending: boolean; error: Error | null }
const idle: LoginState = { isPending: false, error: null }

/** A login with pending and error state for forms, local to the calling component. */
export function useLogin(): UseLoginResult {
  const session = useSessionInstance()
  const [state, setState] = useState(idle)
  // Only the latest call may update the state: an older, slower answer must not win.
  const latest = useRef(0)
  const actions = useMemo(
    () => ({
      login: async (credentials: unknown) => {
        const call = ++latest.current
        const settle = (next: LoginState) => {
          if (call === latest.current) setState(next)
        }
        setState({ isPending: true, error: null })
        try {
          await session.login(credentials)
          settle(idle)
          return true
        } catch (error) {
          // Superseded: the session follows whatever won, and this form has nothing to show.
          if (error instanceof SessionExpiredError) settle(idle)
          // session.login rejects with Error subclasses (TokenflightError, fetch/axios errors).
          else settle({ isPending: false, error: error as Error })
          return false
        }
      },
      reset: () => {
        latest.current++
        setState(idle)
      },
    }),
    [session],
  )
  return { ...state, ...actions }
}
