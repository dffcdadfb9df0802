import { useState } from 'react'
import { isTerminal } from './activityLog'
import { useDemo } from './demoContext'

const BURST_SIZE = 25

type Burst = {
  served: number
  failed: number
  refreshes: number
  unauthorized: number
}
type Busy = 'expire' | 'burst' | 'revoke' | null

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 'es'}`

export function DemoActions() {
  const { api, backend, session, activity, flights } = useDemo()
  const [busy, setBusy] = useState<Busy>(null)
  const [burst, setBurst] = useState<Burst | null>(null)
  const [error, setError] = useState<string | null>(null)

  async function run(which: Exclude<Busy, null>, action: () => Promise<void>) {
    setBusy(which)
    setError(null)
    flights.begin()
    try {
      await action()
    } catch (caught) {
      if (!isTerminal(caught)) {
        const message =
          caught instanceof Error ? caught.message : String(caught)
        setError(message)
        activity.add('error', message)
      }
    } finally {
      setBusy(null)
    }
  }

  const expireNow = () =>
    run('expire', async () => {
      await backend.expireAccessTokens()
      activity.markServerExpired(session.getSnapshot().generation)
      activity.add(
        'action',
        'Server expired the access token. The next request gets a 401 and refreshes once.',
      )
    })

  const fireBurst = () =>
    run('burst', async () => {
      setBurst(null)
      const refreshesBefore = activity.getSnapshot().refreshes
      const statsBefore = await backend.stats()
      await backend.expireAccessTokens()
      activity.markServerExpired(session.getSnapshot().generation)
      activity.add(
        'action',
        `Expired the access token, then fired ${BURST_SIZE} requests at once`,
      )
      const results = await Promise.allSettled(
        Array.from({ length: BURST_SIZE }, () => api.get('/me')),
      )
      const statsAfter = await backend.stats()
      const served = results.filter((r) => r.status === 'fulfilled').length
      const result: Burst = {
        served,
        failed: BURST_SIZE - served,
        refreshes: activity.getSnapshot().refreshes - refreshesBefore,
        unauthorized: statsAfter.unauthorized - statsBefore.unauthorized,
      }
      setBurst(result)
      activity.add(
        'result',
        `${BURST_SIZE} requests: ${result.served} served, ${plural(result.refreshes, 'refresh')}, ${result.unauthorized} × 401 retried`,
      )
    })

  const revoke = () =>
    run('revoke', async () => {
      await backend.revokeSessions()
      activity.add(
        'action',
        'Session revoked on the server, as if you signed out on another device. Do anything: the refresh will be rejected.',
      )
    })

  return (
    <div className="actions">
      <h3>Try it</h3>
      <div className="action-grid">
        <button
          className="action"
          type="button"
          onClick={() => void expireNow()}
          disabled={busy !== null}
          data-testid="expire-token"
        >
          <span className="action-title">Expire access token now</span>
          <span className="action-hint">
            Then add a to-do: one 401, one refresh, one retry.
          </span>
        </button>
        <button
          className="action"
          type="button"
          onClick={() => void fireBurst()}
          disabled={busy !== null}
          data-testid="fire-burst"
        >
          <span className="action-title">
            Fire {BURST_SIZE} requests at once
          </span>
          <span className="action-hint">
            With an expired token: all 401, still one refresh.
          </span>
        </button>
        <button
          className="action action-danger"
          type="button"
          onClick={() => void revoke()}
          disabled={busy !== null}
          data-testid="revoke-session"
        >
          <span className="action-title">Revoke session elsewhere</span>
          <span className="action-hint">
            The next refresh fails for good: back to sign-in.
          </span>
        </button>
      </div>

      <div aria-live="polite">
        {busy === 'burst' ? (
          <div className="burst burst-pending" data-testid="burst-pending">
            Firing {BURST_SIZE} requests…
          </div>
        ) : burst ? (
          <div
            className={
              burst.failed === 0 ? 'burst burst-ok' : 'burst burst-bad'
            }
            data-testid="burst-result"
          >
            <strong data-testid="burst-summary">
              {burst.served} served, {plural(burst.refreshes, 'refresh')}
            </strong>
            <span className="small">
              {burst.unauthorized} × 401 from the API, {burst.failed} failed.
              {burst.refreshes === 1 && burst.unauthorized > 1 ? (
                <>
                  {' '}
                  The {burst.unauthorized} requests that got a 401 waited for
                  the same single <code>/refresh</code>.
                </>
              ) : null}
            </span>
          </div>
        ) : null}
      </div>

      {error ? (
        <div className="notice notice-error" role="alert">
          {error}
        </div>
      ) : null}
    </div>
  )
}
