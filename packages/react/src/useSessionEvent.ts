import type { SessionEvent, SessionEvents } from '@tokenflight/core'
import { useEffect, useInsertionEffect, useRef } from 'react'
import { useSessionInstance } from './SessionProvider'

/**
 * Calls `handler` on each `event` of the session ('refreshed', 'expired', 'loggedOut',
 * 'refreshFailed', …). The latest handler is always the one called, without resubscribing,
 * so an inline arrow is fine.
 */
export function useSessionEvent<E extends SessionEvent>(
  event: E,
  handler: (payload: SessionEvents[E]) => void,
): void {
  const session = useSessionInstance()
  const latest = useRef(handler)
  // Runs before any other effect (and not on the server), so an event never sees a stale handler.
  useInsertionEffect(() => {
    latest.current = handler
  })
  useEffect(
    () => session.on(event, (payload) => latest.current(payload)),
    [session, event],
  )
}
