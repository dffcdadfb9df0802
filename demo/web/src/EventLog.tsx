import { useActivity } from './demoContext'
import type { LogKind } from './activityLog'

const KIND_LABEL: Record<LogKind, string> = {
  signedIn: 'signed in',
  refreshed: 'refreshed',
  adopted: 'other tab',
  expired: 'expired',
  loggedOut: 'logged out',
  refreshFailed: 'refresh failed',
  action: 'you',
  result: 'result',
  error: 'error',
}

const time = (at: number) =>
  new Date(at).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  })

export function EventLog() {
  const { entries } = useActivity()
  return (
    <div className="log">
      <h3>Event log</h3>
      {entries.length === 0 ? (
        <p className="muted small">Session events appear here.</p>
      ) : (
        <ol className="log-list" data-testid="event-log">
          {entries.map((entry) => (
            <li
              key={entry.id}
              className={`log-entry kind-${entry.kind}`}
              data-testid="event"
              data-kind={entry.kind}
            >
              <time className="log-time">{time(entry.at)}</time>
              <span className="log-kind">{KIND_LABEL[entry.kind]}</span>
              <span className="log-message">{entry.message}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  )
}
