import { RefreshError, RefreshTimeoutError } from './errors'
import type { SessionOptions } from './types'

// Duck-typed so that axios, ky, fetch wrappers and OAuth2HttpError all classify alike.
type HttpLike = {
  status?: unknown
  data?: { error?: unknown }
  response?: { status?: unknown; data?: { error?: unknown } }
}

/** Classifies what the user's `refresh` threw (DESIGN.md, "How the core classifies a failed refresh"). */
export function toRefreshError(
  error: unknown,
  isTerminal: SessionOptions['isTerminal'],
): RefreshError {
  if (error instanceof RefreshTimeoutError) return error
  const e = Object(error) as HttpLike
  const s = e.status ?? e.response?.status
  const c = e.response?.data?.error ?? e.data?.error
  const status = typeof s === 'number' ? s : undefined
  const code = typeof c === 'string' ? c : undefined
  let terminal =
    status === 400 ||
    status === 401 ||
    status === 403 ||
    code === 'invalid_grant'
  try {
    if (isTerminal) terminal = isTerminal(error)
  } catch {
    // A throwing isTerminal must not wedge the refresh: keep the default classification.
  }
  return new RefreshError(
    `Token refresh failed${status ? ` with ${status}` : ''}${code ? ` (${code})` : ''}`,
    { cause: error, terminal, status, code },
  )
}
