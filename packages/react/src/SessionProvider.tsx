import { TokenflightError, type Session } from '@tokenflight/core'
import {
  createContext,
  useContext,
  type ReactElement,
  type ReactNode,
} from 'react'

const SessionContext = createContext<Session | null>(null)

export type SessionProviderProps = {
  /** Created outside React (module scope), so StrictMode and remounts never create a second one. */
  session: Session
  children?: ReactNode
}

/** Makes `session` available to every tokenflight hook below it. */
// Typed ReactElement rather than JSX.Element: the `React.JSX` namespace is missing from older @types/react 18.
export function SessionProvider({
  session,
  children,
}: SessionProviderProps): ReactElement {
  // Fail here, naming the prop, rather than later in whichever hook first reads it. The
  // message names the kind of value, never its content (it could be a token).
  if (typeof session?.subscribe != 'function') {
    throw new TokenflightError(
      `<SessionProvider session> got ${session === null ? 'null' : typeof session}, not a session: pass what createSession() returns, created once outside your components`,
    )
  }
  // `.Provider` rather than `<SessionContext value>`: React 18 is a supported peer.
  return (
    <SessionContext.Provider value={session}>
      {children}
    </SessionContext.Provider>
  )
}

/** The Session from the nearest SessionProvider, for what the hooks don't cover (`getAccessToken`, `setTokens`). */
export function useSessionInstance(): Session {
  const session = useContext(SessionContext)
  if (!session) {
    throw new TokenflightError(
      'No tokenflight session here: tokenflight hooks and <Authenticated> must be rendered inside <SessionProvider session={session}>',
    )
  }
  return session
}
