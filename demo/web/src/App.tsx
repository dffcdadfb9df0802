import { RefreshError } from '@tokenflight/core'
import { Authenticated, useAuth } from '@tokenflight/react'
import { Dashboard } from './Dashboard'
import { LoginScreen } from './LoginScreen'

export function App() {
  const { status, error } = useAuth()
  // 'expired': a refresh was rejected for good (revoked, reused or too old refresh token).
  const ended = status === 'expired'
  const code = error instanceof RefreshError ? error.code : undefined
  return (
    <Authenticated
      fallback={
        <LoginScreen
          notice={
            ended
              ? 'Your session ended elsewhere — please sign in again.'
              : null
          }
          detail={
            ended
              ? `The server rejected the refresh token${code ? ` (${code})` : ''}.`
              : null
          }
        />
      }
    >
      <Dashboard />
    </Authenticated>
  )
}
