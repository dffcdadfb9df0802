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
  // Fail here, naming the prop, rather than later in whichever hook first reads it.
  if (!isSession(session)) {
    throw new TokenflightError(
      `<SessionProvider session={…}> needs the session createSession() returns, got ${describe(session)}. ` +
        'Create it once, outside your components: `const session = createSession({ refresh, login })`, ' +
        'then render <SessionProvider session={session}>.',
    )
  }
  // `.Provider` rather than `<SessionContext value>`: React 18 is a supported peer.
  return (
    <SessionContext.Provider value={session}>
      {children}
    </SessionContext.Provider>
  )
}

const isSession = (value: unknown): value is Session =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Session).getSnapshot === 'function' &&
  typeof (value as Session).subscribe === 'function'

/** The kind of a wrong value, never its content (it could be a token). */
function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (typeof value === 'function') return 'a function (createSession itself?)'
  if (
    typeof value === 'object' &&
    typeof (value as Promise<unknown>).then === 'function'
  )
    return 'a promise (await it outside React, or create the session synchronously)'
  return typeof value === 'object'
    ? 'an object that is not a session'
    : `a ${typeof value}`
}

/** The Session from the nearest SessionProvider, for what the hooks don't cover (`getAccessToken`, `setTokens`). */
export function useSessionInstance(): Session {
  const session = useContext(SessionContext)
  if (!session) {
    throw new TokenflightError(
      'No tokenflight session here: tokenflight hooks (useAuth, useLogin, useSession, useSessionEvent) and <Authenticated> must be rendered inside <SessionProvider session={session}>. ' +
        'Wrap your app in it; in a test, wrap the component you render.',
    )
  }
  return session
}
