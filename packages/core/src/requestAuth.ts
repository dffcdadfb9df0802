import { SessionExpiredError, TokenflightError, sessionEnded } from './errors'
import type { Session, SessionSnapshot, TokenSet } from './types'

/** The page's URL in a browser (or worker), where relative URLs resolve; undefined elsewhere. */
export const pageHref = (): string | undefined => globalThis.location?.href

/**
 * The WHATWG origin of `url`, or undefined. Relative URLs resolve as XHR and fetch resolve
 * them: against `document.baseURI` (a `<base href>` moves it), else the page.
 */
export function originOf(url: string): string | undefined {
  try {
    const { origin } = new URL(url, globalThis.document?.baseURI ?? pageHref())
    // Opaque origins (data:, file:, blob: without a host) never get a token.
    return origin === 'null' ? undefined : origin
  } catch {
    return undefined
  }
}

/**
 * Where a binding (attachSession, createFetch, kyAuth …) may send tokens, as a test of a
 * request's WHATWG origin: the origins of `allowedOrigins` strings (a path is ignored) and
 * RegExps tested against the origin string; when `allowedOrigins` is not given, the origins of
 * `defaults` (say a baseURL, and `pageHref()` in a browser for relative URLs). No origin never
 * passes. Throws a TokenflightError, naming `binding`, the bad value and the fix, when the
 * session is not one, when an `allowedOrigins` string is no absolute URL, or when there is no
 * default at all (outside a browser): better now than no token later.
 */
export function createOriginFilter(
  allowedOrigins: Array<string | RegExp> | undefined,
  defaults: Array<string | undefined>,
  binding: string,
  session?: Session,
): (origin: string | undefined) => boolean {
  const fail = (problem: string) => {
    throw new TokenflightError(`${binding}: ${problem}`)
  }
  if (typeof session?.getSnapshot != 'function')
    fail(`session is ${typeof session}, not createSession()'s`)
  const allowed = (allowedOrigins ?? defaults).flatMap((entry) =>
    typeof entry == 'string'
      ? (originOf(entry) ??
        (allowedOrigins
          ? fail(`allowedOrigins "${entry}" is no absolute URL (https://host)`)
          : []))
      : (entry ?? []),
  )
  if (!allowed.length && !allowedOrigins)
    fail(
      defaults[0]
        ? `baseURL "${defaults[0]}" is relative, with no page to resolve it: make it absolute or pass allowedOrigins`
        : 'no baseURL, no allowedOrigins, no page origin: pass allowedOrigins',
    )
  return (origin) =>
    !!origin &&
    allowed.some((m) =>
      typeof m === 'string' ? m === origin : origin.search(m) >= 0,
    )
}

/**
 * What a binding does when a request that carried the tokens of `sent` (the snapshot its
 * token was read from) is rejected: refresh once for the whole burst, unless the tokens have
 * changed since it was sent, in which case the retry needs no refresh; and unless the refresh
 * of this very token failed after the request went out (a 422, or transient failures past
 * their retries), which is then this request's answer too: no new refresh per late 401,
 * unless a newer request has started one already. Resolves with the tokens for the one
 * retry; rejects with why there are none. `wait` races the refresh with the request's own
 * cancellation. Only refreshes of the sign-in it was sent under (`identity`) count: after a
 * logout, a login or setTokens (another user, maybe) it rejects with a SessionExpiredError,
 * never to be re-sent with someone else's token. While the session holds its requests for
 * a sign-in (holdForLogin), one sent under its identity waits for that sign-in too.
 */
export async function renewForRetry(
  session: Session,
  sent: Pick<SessionSnapshot, 'generation' | 'identity' | 'error'>,
  wait: (refreshing: Promise<TokenSet>) => Promise<unknown>,
): Promise<TokenSet> {
  const now = session.getSnapshot()
  const mine = now.identity === sent.identity
  // Held for a sign-in of the same user (holdForLogin): refresh() waits for it.
  if (mine && now.heldUntil) await wait(session.refresh())
  else if (mine && now.generation === sent.generation) {
    if (now.error && now.error !== sent.error && now.status !== 'refreshing')
      throw now.error
    await wait(session.refresh())
  }
  const { tokens, error, identity } = session.getSnapshot()
  if (!tokens) throw error ?? sessionEnded()
  if (identity !== sent.identity)
    throw new SessionExpiredError(
      'Signed out or in again since the request was sent: not retried',
    )
  return tokens
}
