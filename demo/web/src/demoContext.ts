import {
  createContext,
  useContext,
  useEffect,
  useState,
  useSyncExternalStore,
} from 'react'
import type { ActivityState } from './activityLog'
import type { ServerStats } from './backend'
import type { DemoClient } from './client'

export const DemoContext = createContext<DemoClient | null>(null)

export function useDemo(): DemoClient {
  const demo = useContext(DemoContext)
  if (!demo) throw new Error('useDemo() needs a <DemoContext.Provider>')
  return demo
}

export function useActivity(): ActivityState {
  const { activity } = useDemo()
  return useSyncExternalStore(activity.subscribe, activity.getSnapshot)
}

/** Date.now(), re-rendered every `intervalMs`. */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs)
    return () => clearInterval(id)
  }, [intervalMs])
  return now
}

/** The server's counters, polled; null until the first answer. */
export function useServerStats(intervalMs: number): ServerStats | null {
  const { backend } = useDemo()
  const [stats, setStats] = useState<ServerStats | null>(null)
  useEffect(() => {
    let active = true
    const poll = () => {
      backend.stats().then(
        (next) => {
          if (active) setStats(next)
        },
        () => {
          // A missed poll is harmless: the next one catches up.
        },
      )
    }
    poll()
    const id = setInterval(poll, intervalMs)
    return () => {
      active = false
      clearInterval(id)
    }
  }, [backend, intervalMs])
  return stats
}
