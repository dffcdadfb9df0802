import { RefreshError, SessionExpiredError } from '@tokenflight/core'
import type { Session, TokenflightError } from '@tokenflight/core'
import type { ServerStats } from './backend'

export type LogKind =
  | 'signedIn'
  | 'refreshed'
  | 'adopted'
  | 'expired'
  | 'loggedOut'
  | 'refreshFailed'
  | 'action'
  | 'result'
  | 'error'

export type LogEntry = {
  id: number
  at: number
  kind: LogKind
  message: string
}

export type ActivityState = {
  /** Newest first. */
  entries: readonly LogEntry[]
  /** `refreshed` events seen since the page loaded: refreshes this tab made. */
  refreshes: number
  /** `adopted` events: tokens another tab refreshed (or signed in with), taken without a call. */
  adopted: number
  /** The session generation whose access token the server expired (the client cannot know it otherwise). */
  serverExpiredGeneration: number | null
  /** The server's counters when this tab last signed in: the panel shows what happened since. */
  statsBaseline: ServerStats | null
}

export type ActivityLog = {
  getSnapshot(): ActivityState
  subscribe(listener: () => void): () => void
  add(kind: LogKind, message: string): void
  markServerExpired(generation: number): void
  /** A new sign-in: the counters start again from zero (the log keeps its history). */
  signedIn(username: string, statsBaseline: ServerStats | null): void
}

const LIMIT = 60

/** The session is over (refresh refused, or signed out meanwhile): the login form takes it from here. */
export function isTerminal(error: unknown): boolean {
  return (
    error instanceof SessionExpiredError ||
    (error instanceof RefreshError && error.terminal)
  )
}

function describe(error: TokenflightError): string {
  // An HTTP failure's message already names the status and OAuth2 code; a network one needs its cause.
  const answered = error instanceof RefreshError && error.status !== undefined
  const cause =
    !answered && error.cause instanceof Error ? ` (${error.cause.message})` : ''
  return `${error.message}${cause}`
}

/**
 * The demo's memory of what happened: session events plus the user's demo actions. It lives
 * outside React so nothing is lost while the app switches between the login form and the dashboard.
 */
export function createActivityLog(session: Session): ActivityLog {
  let state: ActivityState = {
    entries: [],
    refreshes: 0,
    adopted: 0,
    serverExpiredGeneration: null,
    statsBaseline: null,
  }
  const listeners = new Set<() => void>()
  let nextId = 1

  const update = (next: Partial<ActivityState>, entry?: [LogKind, string]) => {
    const entries = entry
      ? [
          { id: nextId++, at: Date.now(), kind: entry[0], message: entry[1] },
          ...state.entries,
        ].slice(0, LIMIT)
      : state.entries
    state = { ...state, ...next, entries }
    for (const listener of listeners) listener()
  }

  session.on('refreshed', ({ expiresAt }) => {
    const ttl =
      expiresAt === undefined
        ? ''
        : ` — new access token valid for ${Math.round((expiresAt - Date.now()) / 1000)} s`
    update({ refreshes: state.refreshes + 1 }, [
      'refreshed',
      `Token refreshed by this tab (one call to /refresh)${ttl}`,
    ])
  })
  session.on('adopted', ({ signedIn, expiresAt }) => {
    const ttl =
      expiresAt === undefined
        ? ''
        : ` — valid for ${Math.round((expiresAt - Date.now()) / 1000)} s`
    update(
      { adopted: state.adopted + 1 },
      signedIn
        ? [
            'adopted',
            `Adopted the token another tab refreshed or signed in with (no call to /refresh here)${ttl}`,
          ]
        : ['adopted', 'Another tab signed out: signed out here too'],
    )
  })
  session.on('expired', ({ error }) => {
    update({}, [
      'expired',
      `Refresh rejected, session ended: ${describe(error)}`,
    ])
  })
  session.on('refreshFailed', ({ error }) => {
    // Terminal failures are logged by `expired`; this one keeps the tokens and may recover.
    if (!isTerminal(error)) {
      update({}, [
        'refreshFailed',
        `Refresh failed, will retry on the next request: ${describe(error)}`,
      ])
    }
  })
  session.on('loggedOut', () => {
    update({ serverExpiredGeneration: null }, ['loggedOut', 'Signed out'])
  })

  return {
    getSnapshot: () => state,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    add(kind, message) {
      update({}, [kind, message])
    },
    markServerExpired(generation) {
      update({ serverExpiredGeneration: generation })
    },
    signedIn(username, statsBaseline) {
      update(
        {
          refreshes: 0,
          adopted: 0,
          serverExpiredGeneration: null,
          statsBaseline,
        },
        ['signedIn', `Signed in as ${username}`],
      )
    },
  }
}
