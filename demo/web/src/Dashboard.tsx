import { useEffect, useState } from 'react'
import { useAuth } from '@tokenflight/react'
import { isTerminal } from './activityLog'
import { useDemo } from './demoContext'
import { ModeBadge } from './ModeBadge'
import { ActivityPanel, SessionPanel } from './SessionPanel'
import { TodoList } from './TodoList'

type Me = { username?: string }

export function Dashboard() {
  const { logout } = useAuth()
  const { api, activity } = useDemo()
  const [username, setUsername] = useState<string | null>(null)

  useEffect(() => {
    const controller = new AbortController()
    api.get<Me>('/me', { signal: controller.signal }).then(
      ({ data }) => setUsername(data.username ?? null),
      (error: unknown) => {
        if (!controller.signal.aborted && !isTerminal(error)) {
          activity.add('error', 'Could not load your profile')
        }
      },
    )
    return () => controller.abort()
  }, [api, activity])

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span className="brand-name">tokenflight</span>
          <span className="brand-sub">TO-DO demo</span>
        </div>
        <div className="topbar-right">
          <ModeBadge />
          <span className="user" data-testid="current-user">
            {username ?? '…'}
          </span>
          <button
            className="button button-ghost"
            type="button"
            onClick={() => void logout()}
            data-testid="logout"
          >
            Sign out
          </button>
        </div>
      </header>
      <main className="layout" data-testid="dashboard">
        <SessionPanel />
        <TodoList />
        <ActivityPanel />
      </main>
    </div>
  )
}
