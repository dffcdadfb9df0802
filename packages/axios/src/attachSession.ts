import { CanceledError, getAdapter } from 'axios'
import type {
  AxiosError,
  AxiosInstance,
  AxiosResponse,
  InternalAxiosRequestConfig,
} from 'axios'
import {
  TokenflightError,
  UnsafeRedirectError,
  createOriginFilter,
  originOf,
  pageHref,
  renewForRetry,
} from '@tokenflight/core'
import type { Session, SessionSnapshot } from '@tokenflight/core'
import { requestOrigin } from './requestOrigin'

declare module 'axios' {
  // Type parameters must match axios' own declaration to merge.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars, @typescript-eslint/no-explicit-any
  interface AxiosRequestConfig<D = any, P = any> {
    /** Send no token and never refresh for this request (e.g. the refresh call itself). */
    skipAuth?: boolean | undefined
    /** Send the token, but never refresh or retry this request on 401. Retries carry it. */
    skipAuthRefresh?: boolean | undefined
  }
}

export type AttachSessionOptions = {
  /** Response statuses that mean "the token was not accepted". Default [401]. */
  statusCodes?: number[]
  /** Further filter over the failed responses; default: refresh for every status in statusCodes. */
  shouldRefresh?: (error: AxiosError) => boolean
  /**
   * Where tokens may go: origins (`https://api.example.com`) or RegExps tested against the
   * origin string. Default: the origin of instance.defaults.baseURL, and in a browser the page's.
   */
  allowedOrigins?: Array<string | RegExp>
  /** Default 'Authorization'. */
  headerName?: string
}

// Rejects at once, as axios cancels do, when the request's signal or cancelToken fires first.
function untilCanceled<T>(
  promise: Promise<T>,
  config: InternalAxiosRequestConfig,
): Promise<T> {
  const { signal, cancelToken } = config
  // Nothing to race: parked requests cost no extra promise (bursts can park thousands).
  if (!signal && !cancelToken) return promise
  return new Promise<T>((resolve, reject) => {
    const cancel = () =>
      reject(cancelToken?.reason ?? new CanceledError(undefined, config))
    if (signal?.aborted) cancel()
    signal?.addEventListener?.('abort', cancel)
    // Calls back at once when already canceled; unsubscribed so a shared token does not pile up.
    cancelToken?.subscribe(cancel)
    promise.then(resolve, reject).finally(() => {
      signal?.removeEventListener?.('abort', cancel)
      cancelToken?.unsubscribe(cancel)
    })
  })
}

/**
 * Sends the session's access token with every request to an allowed origin, and on 401
 * refreshes once for the whole burst and retries each request once. Returns `detach`.
 */
// Instances with a session attached: a second session on one instance would fight the first
// over every 401. One session on several instances is fine.
const attached = new WeakSet<object>()

export function attachSession(
  instance: AxiosInstance,
  session: Session,
  options: AttachSessionOptions = {},
): () => void {
  if (attached.has(instance))
    throw new TokenflightError(
      'attachSession: this instance has a session; call its detach function first',
    )
  const {
    statusCodes = [401],
    shouldRefresh = () => true,
    headerName = 'Authorization',
  } = options
  // Origins and refresh-or-retry are decided in core, the same for every binding.
  const allows = createOriginFilter(
    options.allowedOrigins,
    [instance.defaults.baseURL, pageHref()],
    'attachSession',
    session,
  )
  // The snapshot a request's token was read from, for requests that may refresh on 401.
  // A hidden property of axios' per-request copy of the config (request() merges a new one
  // every time; the caller's object is never touched): not enumerable, so neither spreads
  // nor mergeConfig copy it into another request. A WeakMap did the same at about 1 µs a
  // request, as its entries are ephemerons the garbage collector must trace.
  // The snapshot is kept whole: its generation and its error say, at the 401, whether the
  // token was replaced or a refresh failed since the request went out.
  const sent = Symbol('tokenflight.snapshot')
  type Tracked = InternalAxiosRequestConfig & {
    [sent]?: SessionSnapshot | undefined
  }

  // Node's http adapter follows redirects itself (follow-redirects): the token goes on only
  // to an allowed origin (axios strips Authorization across hosts, not a custom headerName,
  // and older axios not even Authorization to a sibling host). One function for every
  // request, set by plain assignment: a closure per request, hidden by defineProperty,
  // cost about 2 µs a request (bench case 4b). Copies of the config (the retry, an app
  // re-sending error.config) keep it, and it is not wrapped twice.
  const strip = (options: {
    protocol?: string
    host?: string
    headers?: object
  }) => {
    if (!allows(originOf(`${options.protocol}//${options.host}`)))
      for (const name in options.headers)
        if (name.toLowerCase() === headerName.toLowerCase())
          delete (options.headers as Record<string, unknown>)[name]
  }

  // The token and the generation it belongs to, read together from one snapshot.
  const authorize = (config: InternalAxiosRequestConfig) => {
    const snapshot = session.getSnapshot()
    const { tokens } = snapshot
    if (tokens) {
      config.headers.set(
        headerName,
        `${tokens.tokenType ?? 'Bearer'} ${tokens.accessToken}`,
      )
      // strip() on every redirect, then the app's own beforeRedirect if it has one.
      const { beforeRedirect } = config
      config.beforeRedirect =
        !beforeRedirect || beforeRedirect === strip
          ? strip
          : (options, ...rest) => {
              strip(options)
              beforeRedirect(options, ...rest)
            }
      // The origin once more at the last moment: an interceptor that runs after this one
      // (registered before attachSession) may have moved url or baseURL.
      const { adapter } = config
      config.adapter = (last) => {
        if (!allows(requestOrigin(last))) last.headers.delete(headerName)
        // In a browser XHR cannot refuse a redirect, and the browser carries a custom header
        // to any origin a redirect names (Chromium does: e2e/browser/redirects.test.ts). A
        // request that carries the token in one goes through axios' fetch adapter with
        // redirect 'manual' instead (axios >= 1.7), and a redirect answer, opaque (status 0),
        // rejects with UnsafeRedirectError. An adapter function of the app's is left alone.
        if (
          !pageHref() ||
          /^authorization$/i.test(headerName) ||
          !last.headers.has(headerName) ||
          [adapter].flat().some((a) => typeof a === 'function')
        )
          return getAdapter(adapter)(last)
        last.fetchOptions = { ...last.fetchOptions, redirect: 'manual' }
        const refuse = <T extends AxiosResponse | undefined>(response: T) => {
          if (response?.status === 0) throw new UnsafeRedirectError(headerName)
          return response
        }
        return getAdapter('fetch')(last).then(refuse, (error: AxiosError) => {
          refuse(error.response)
          throw error
        })
      }
      Object.defineProperty(config, sent, {
        value: config.skipAuthRefresh ? undefined : snapshot,
        // Writable and configurable: axios (1.21+) copies a config with a locked property
        // into a new object before it sends, and error.config is then that copy.
        writable: true,
        configurable: true,
      })
    }
    return config
  }

  const { interceptors } = instance
  const requestId = interceptors.request.use((config) => {
    if (config.skipAuth || !allows(requestOrigin(config))) return config
    // A token that needs no wait goes on at once: no promise per request on the happy path.
    if (session.peekAccessToken?.()) return authorize(config)
    return untilCanceled(session.getAccessToken(), config).then((token) =>
      token ? authorize(config) : config,
    )
  })

  const responseId = interceptors.response.use(
    undefined,
    async (error: unknown) => {
      // Whatever the chain rejects with; only axios errors have a config we tracked.
      const { config, response } = (error ?? {}) as Partial<AxiosError>
      const before = (config as Tracked | undefined)?.[sent]
      if (
        !config ||
        !before ||
        !statusCodes.includes(response?.status ?? 0) ||
        !shouldRefresh(error as AxiosError)
      )
        throw error
      const tokens = await renewForRetry(session, before, (refreshing) =>
        untilCanceled(refreshing, config),
      )
      config.headers.delete(headerName)
      // The retry goes through every interceptor again; skipAuthRefresh makes it the last.
      // Its answer tells the session whether the new tokens were refused too (back-off).
      const report = (status?: number) =>
        status && session.reportRetry?.(tokens, statusCodes.includes(status))
      return instance.request({ ...config, skipAuthRefresh: true }).then(
        (retried) => (report(retried.status), retried),
        (e: unknown) => {
          report((e as Partial<AxiosError>)?.response?.status)
          throw e
        },
      )
    },
  )

  attached.add(instance)
  return () => {
    attached.delete(instance)
    interceptors.request.eject(requestId)
    interceptors.response.eject(responseId)
  }
}
