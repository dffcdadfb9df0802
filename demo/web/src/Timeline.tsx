import { useSyncExternalStore } from 'react'
import type { Span } from './flightRecorder'
import { useDemo } from './demoContext'

const LANES: Array<{ lane: Span['lane']; label: string }> = [
  { lane: 'first', label: 'Sent' },
  { lane: 'held', label: 'Held for the token' },
  { lane: 'refresh', label: 'Refresh' },
  { lane: 'retry', label: 'Retried' },
]
const ROW = 4
const GAP = 1
const WIDTH = 600

/** Swimlanes of the last action: the 401s, the requests held, the one refresh, the retries. */
export function Timeline() {
  const { flights } = useDemo()
  const { spans } = useSyncExternalStore(flights.subscribe, flights.getSnapshot)
  if (spans.length === 0) {
    return (
      <p className="small muted" data-testid="timeline-empty">
        Press a button above: each request, the refresh and the retries show up
        here as they happen.
      </p>
    )
  }
  const t0 = Math.min(...spans.map((s) => s.start))
  const t1 = Math.max(...spans.map((s) => s.end), t0 + 1)
  const x = (t: number) => ((t - t0) / (t1 - t0)) * WIDTH
  return (
    <div className="timeline" data-testid="timeline">
      {LANES.map(({ lane, label }) => {
        const rows = spans.filter((s) => s.lane === lane)
        const height = Math.max(rows.length * (ROW + GAP), ROW + GAP)
        return (
          <div
            className="timeline-lane"
            key={lane}
            data-testid={`lane-${lane}`}
            data-count={rows.length}
          >
            <span className="timeline-label">
              {label} <span className="muted">{rows.length}</span>
            </span>
            <svg
              viewBox={`0 0 ${WIDTH} ${height}`}
              preserveAspectRatio="none"
              style={{ height }}
              role="img"
              aria-label={`${label}: ${rows.length}`}
            >
              {rows.map((span, i) => (
                <rect
                  key={i}
                  className={`span span-${lane}${span.status === 401 ? ' span-401' : ''}`}
                  x={x(span.start)}
                  y={i * (ROW + GAP)}
                  width={Math.max(x(span.end) - x(span.start), 2)}
                  height={ROW}
                />
              ))}
            </svg>
          </div>
        )
      })}
      <div className="timeline-axis small muted">
        <span>0 ms</span>
        <span>{t1 - t0} ms</span>
      </div>
      <p className="small muted">
        One bar per request, from the app&apos;s own axios interceptors and the
        session&apos;s status. Red: answered 401. Amber: waiting for the new
        token. Indigo: the one <code>/refresh</code>. Green: the retry with the
        new token.
      </p>
    </div>
  )
}
