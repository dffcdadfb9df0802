import { useState } from 'react'
import type { FormEvent } from 'react'
import { useLogin } from '@tokenflight/react'
import { DEMO_USER } from './backend'
import { useDemo } from './demoContext'
import { ModeBadge } from './ModeBadge'

function describeLoginError(error: Error): string {
  const status = (error as { status?: unknown }).status
  if (status === 400 || status === 401) return 'Wrong username or password.'
  return `Sign-in failed: ${error.message}`
}

type LoginScreenProps = {
  /** Why the user is back here, e.g. the session ended elsewhere. */
  notice: string | null
  detail: string | null
}

export function LoginScreen({ notice, detail }: LoginScreenProps) {
  const { login, isPending, error } = useLogin()
  const { activity, backend } = useDemo()
  const [username, setUsername] = useState<string>(DEMO_USER.username)
  const [password, setPassword] = useState<string>(DEMO_USER.password)

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    if (await login({ username, password })) {
      // The server's counters as they stand now: the panel counts from here.
      activity.signedIn(username, await backend.stats().catch(() => null))
    }
  }

  return (
    <div className="login-page">
      <section className="login-card card">
        <header className="login-header">
          <div className="brand">
            <span className="brand-mark" aria-hidden="true" />
            <span className="brand-name">tokenflight</span>
          </div>
          <h1>Sign in to your to-dos</h1>
          <p className="muted">
            Short-lived access tokens, one refresh for a burst of 401s, and a
            clean exit when the session ends.
          </p>
        </header>

        {notice ? (
          <div className="notice notice-warning" role="alert">
            <span data-testid="session-ended">{notice}</span>
            {detail ? (
              <small data-testid="session-ended-detail">{detail}</small>
            ) : null}
          </div>
        ) : null}

        <form
          className="login-form"
          onSubmit={onSubmit}
          data-testid="login-form"
        >
          <label>
            <span>Username</span>
            <input
              name="username"
              autoComplete="username"
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              data-testid="login-username"
              required
            />
          </label>
          <label>
            <span>Password</span>
            <input
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              data-testid="login-password"
              required
            />
          </label>
          {error ? (
            <div
              className="notice notice-error"
              role="alert"
              data-testid="login-error"
            >
              {describeLoginError(error)}
            </div>
          ) : null}
          <button
            className="button button-primary"
            type="submit"
            disabled={isPending}
            data-testid="login-submit"
          >
            {isPending ? 'Signing in…' : 'Sign in'}
          </button>
        </form>

        <footer className="login-footer">
          <div className="credentials" data-testid="demo-credentials">
            Demo account: <code>{DEMO_USER.username}</code> /{' '}
            <code>{DEMO_USER.password}</code>
          </div>
          <ModeBadge />
        </footer>
      </section>
    </div>
  )
}
