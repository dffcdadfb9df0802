import { useMemo } from 'react'
import { useSession } from '@tokenflight/react'
import type { SessionStatus } from '@tokenflight/core'
import { REFRESH_LEEWAY_MS } from './client'
import { useActivity, useDemo, useNow, useServerStats } from './demoContext'
import { DemoActions } from './DemoActions'
import { EventLog } from './EventLog'
import { Timeline } from './Timeline'

const STATUS_LABEL: Record<SessionStatus, string> = {
  anonymous: 'Signed out',
  authenticated: 'Signed in',
  refreshing: 'Refreshing…',
  expired: 'Session ended',
}

function formatRemaining(ms: number): string {
  if (ms <= 0) return '0.0 s'
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const total = Math.ceil(ms / 1000)
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`
}

function TokenCountdown() {
  const snapshot = useSession()
  const { serverExpiredGeneration } = useActivity()
  const now = useNow(100)
  const expiresAt = snapshot.tokens?.expiresAt
  // The lifetime of this token, measured when it arrived, scales the bar.
  const lifetime = useMemo(
    () =>
      expiresAt === undefined ? null : Math.max(expiresAt - Date.now(), 1),
    [expiresAt],
  )
  if (!snapshot.tokens) {
    return <p className="muted">No access token: sign in again.</p>
  }
  if (expiresAt === undefined || lifetime === null) {
    return (
      <p className="muted">The server did not say when this token expires.</p>
    )
  }
  // The server's word wins over the client's clock: a token it killed counts no further.
  const expiredOnServer = serverExpiredGeneration === snapshot.generation
  const remaining = expiredOnServer ? 0 : expiresAt - now
  const fraction = Math.min(Math.max(remaining / lifetime, 0), 1)
  const tone =
    expiredOnServer || remaining <= 0
      ? 'danger'
      : remaining < REFRESH_LEEWAY_MS
        ? 'warn'
        : 'ok'

  return (
    <div className={`countdown tone-${tone}`}>
      <div className="countdown-row">
        <span className="countdown-label">Access token expires in</span>
        <span
          className={`countdown-value${expiredOnServer ? ' is-text' : ''}`}
          data-testid="token-remaining"
        >
          {expiredOnServer
            ? 'expired by the server'
            : formatRemaining(remaining)}
        </span>
      </div>
      <div className="bar" role="presentation">
        <div className="bar-fill" style={{ width: `${fraction * 100}%` }} />
      </div>
      <p className="countdown-note small" data-testid="token-note">
        {expiredOnServer
          ? 'The server expired this token: the next request gets a 401, the app refreshes once and retries.'
          : remaining <= 0
            ? 'Expired: the next request refreshes first.'
            : remaining < REFRESH_LEEWAY_MS
              ? `Inside the ${REFRESH_LEEWAY_MS / 1000} s leeway: the next request refreshes first.`
              : `Generation ${snapshot.generation} · refreshed ${REFRESH_LEEWAY_MS / 1000} s before expiry, or on a 401.`}
      </p>
    </div>
  )
}

export function SessionPanel() {
  const status = useSession((s) => s.status)

  return (
    <section
      className="card session"
      aria-labelledby="session-title"
      data-testid="session-panel"
    >
      <header className="card-header">
        <h2 id="session-title">Session</h2>
        <span
          className={`status-pill status-${status}`}
          data-testid="session-status"
          data-status={status}
        >
          <span className="status-dot" aria-hidden="true" />
          {STATUS_LABEL[status]}
        </span>
      </header>

      <TokenCountdown />
      <DemoActions />
    </section>
  )
}

/** The counters and the event log: what the buttons above caused. */
export function ActivityPanel() {
  const { refreshes, adopted, statsBaseline } = useActivity()
  const { backend } = useDemo()
  const stats = useServerStats(backend.kind === 'server' ? 2000 : 500)
  // Since this tab signed in (counters reset on sign-in); the totals until it has.
  const since = (key: 'unauthorized' | 'served' | 'refreshes') =>
    stats ? Math.max(stats[key] - (statsBaseline?.[key] ?? 0), 0) : '–'

  return (
    <section
      className="card activity"
      aria-labelledby="activity-title"
      data-testid="activity-panel"
    >
      <header className="card-header">
        <h2 id="activity-title">What happened</h2>
      </header>
      <h3 className="section-title">Request timeline</h3>
      <Timeline />
      <dl className="tiles">
        <div className="tile tile-accent">
          <dt>Refreshed here</dt>
          <dd key={refreshes} className="flash" data-testid="refresh-count">
            {refreshes}
          </dd>
        </div>
        {backend.shared ? (
          <div className="tile">
            <dt>From other tabs</dt>
            <dd key={adopted} className="flash" data-testid="adopted-count">
              {adopted}
            </dd>
          </div>
        ) : null}
        <div className="tile">
          <dt>401 answers</dt>
          <dd data-testid="server-unauthorized">{since('unauthorized')}</dd>
        </div>
        <div className="tile">
          <dt>Requests served</dt>
          <dd data-testid="server-served">{since('served')}</dd>
        </div>
        <div className="tile">
          <dt>/refresh grants</dt>
          <dd data-testid="server-refreshes">{since('refreshes')}</dd>
        </div>
      </dl>
      <p className="tiles-caption small muted">
        Refreshed here: <code>refreshed</code> events, this tab called /refresh.
        {backend.shared ? (
          <>
            {' '}
            From other tabs: <code>adopted</code> events, tokens another tab
            refreshed (or signed in with) taken without a call. Open this page
            in a second tab to see one refresh serve both.
          </>
        ) : null}{' '}
        The others are the server&apos;s own counters, since you signed in.
      </p>

      <EventLog />
    </section>
  )
}
