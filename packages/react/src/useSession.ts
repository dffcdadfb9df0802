import type { SessionSnapshot } from '@tokenflight/core'
import { useRef, useSyncExternalStore } from 'react'
import { useSessionInstance } from './SessionProvider'

type Selection<T> = {
  snapshot: SessionSnapshot
  selector: unknown
  value: T
}

/**
 * The session snapshot, or what `selector` picks from it. Re-renders only when the
 * selected value changes (`isEqual`, default `Object.is`), so `s => s.tokens !== null`
 * does not re-render on a refresh. Never starts a refresh itself.
 */
export function useSession<T = SessionSnapshot>(
  selector?: (snapshot: SessionSnapshot) => T,
  isEqual: (a: T, b: T) => boolean = Object.is,
): T {
  const session = useSessionInstance()
  const last = useRef<Selection<T> | null>(null)
  // Cached on (snapshot, selector): React calls this often and needs the same value back
  // while nothing changed; an equal selection keeps the previous reference, so no re-render.
  const getSelection = (): T => {
    const snapshot = session.getSnapshot()
    const prev = last.current
    if (prev && prev.snapshot === snapshot && prev.selector === selector) {
      return prev.value
    }
    let value = selector ? selector(snapshot) : (snapshot as T)
    if (prev && isEqual(prev.value, value)) value = prev.value
    last.current = { snapshot, selector, value }
    return value
  }
  // The server snapshot is the session's own: the session is created outside React and has
  // the same state on the server as during hydration.
  return useSyncExternalStore(session.subscribe, getSelection, getSelection)
}
