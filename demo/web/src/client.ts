import axios from 'axios'
import type { AxiosInstance } from 'axios'
import { attachSession } from '@tokenflight/axios'
import { browserStorage, createSession, oauth2Client } from '@tokenflight/core'
import type { Session } from '@tokenflight/core'
import { createActivityLog } from './activityLog'
import type { ActivityLog } from './activityLog'
import type { Backend } from './backend'
import { recordFlights } from './flightRecorder'
import type { FlightRecorder } from './flightRecorder'

export type DemoClient = {
  backend: Backend
  session: Session
  /** Every API call of the app goes through this instance: tokens attached, 401s refreshed once. */
  api: AxiosInstance
  activity: ActivityLog
  /** The requests, the refresh and the retries, for the timeline. */
  flights: FlightRecorder
}

/** Refresh before use when the token has less than this left (the library's default is 30 s). */
export const REFRESH_LEEWAY_MS = 5_000

export function createDemoClient(backend: Backend): DemoClient {
  const session = createSession({
    ...oauth2Client({ baseUrl: backend.baseUrl }),
    refreshLeewayMs: REFRESH_LEEWAY_MS,
    // Every tab of the demo shares the tokens, one refresh per expiry, and a reload stays
    // signed in. Not where each page has a server of its own (no IndexedDB or Web Locks).
    ...(backend.shared && {
      storage: browserStorage({ name: 'tokenflight-demo' }),
    }),
  })
  const api = axios.create({ baseURL: backend.baseUrl })
  const { recorder, afterAttach } = recordFlights(api, session)
  attachSession(api, session)
  afterAttach()
  return {
    backend,
    session,
    api,
    activity: createActivityLog(session),
    flights: recorder,
  }
}
