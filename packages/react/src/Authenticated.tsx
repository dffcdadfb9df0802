import type { SessionSnapshot } from '@tokenflight/core'
import type { ReactElement, ReactNode } from 'react'
import { isSignedIn } from './useAuth'
import { useSession } from './useSession'

export type AuthenticatedProps = {
  children?: ReactNode
  /** Rendered when the session is 'anonymous' or 'expired', e.g. a login form. Default: nothing. */
  fallback?: ReactNode
}

const selectSignedIn = (s: SessionSnapshot) => isSignedIn(s.status)

/** Renders `children` while signed in ('authenticated' or 'refreshing'), else `fallback`. */
export function Authenticated({
  children,
  fallback = null,
}: AuthenticatedProps): ReactElement {
  return <>{useSession(selectSignedIn) ? children : fallback}</>
}
