import {
  InvalidTokenResponseError,
  OAuth2HttpError,
  TokenflightError,
} from './errors'
import type {
  LoginContext,
  LogoutContext,
  RefreshContext,
  TokenSet,
} from './types'

export type OAuth2ClientOptions = {
  /**
   * e.g. 'https://api.example.com'. Checked when the client is created: it must be an
   * http(s) URL, and absolute outside a browser (a relative one, or '' for same-origin
   * paths, only has meaning against a page).
   */
  baseUrl: string
  /** Default '/token'. */
  tokenPath?: string
  /** Default '/refresh'. */
  refreshPath?: string
  /** Default '/logout'. false: the server has no logout endpoint, and logout() sends nothing. */
  logoutPath?: string | false
  /**
   * How the refresh token is sent: JSON `{ refresh_token }` (default), a form
   * `grant_type=refresh_token`, or 'query': `?refresh_token=…` on the URL, which is what
   * FastAPI reads for a bare `refresh(refresh_token: str)` parameter. 'query' leaks the
   * refresh token into URLs, and URLs land in access logs, proxies and APM traces: use it
   * only for a server you cannot change.
   */
  refreshBody?: 'json' | 'form' | 'query'
  /** Default: the global fetch, looked up at call time. */
  fetch?: typeof fetch
}

export type OAuth2Credentials = { username: string; password: string }

export type OAuth2Client = {
  /** Form-encoded `grant_type=password&username&password`, like FastAPI's OAuth2PasswordRequestForm. */
  login(credentials: unknown, ctx: LoginContext): Promise<unknown>
  refresh(ctx: RefreshContext): Promise<unknown>
  logout(ctx: LogoutContext): Promise<void>
}

/** An answer longer than this is not read further (an endless body would fill the memory). */
export const MAX_ANSWER_BYTES = 131_072

/** The body as text, read up to MAX_ANSWER_BYTES; undefined (and the rest dropped) past it. */
const readCapped = async (response: Response) => {
  const reader = response.body?.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let size = 0
  for (;;) {
    const { done, value } = (await reader?.read()) ?? { done: true }
    if (done) return text + decoder.decode()
    if ((size += value.byteLength) > MAX_ANSWER_BYTES) {
      void reader!.cancel()
      return
    }
    text += decoder.decode(value, { stream: true })
  }
}

// A JWT anywhere in a server's message is redacted too, whoever it belongs to.
const JWT = /\beyJ[\w-]*\.[\w-]+\.[\w-]*/g

/** fetch-based endpoints for the usual FastAPI OAuth2 contract; spread them into createSession. */
export function oauth2Client({
  baseUrl,
  tokenPath = '/token',
  refreshPath = '/refresh',
  logoutPath = '/logout',
  refreshBody = 'json',
  fetch: customFetch,
}: OAuth2ClientOptions): OAuth2Client {
  // Fail now rather than at the first login: in Node, fetch('/token') throws far from the cause.
  const page = (globalThis as { location?: { href: string } }).location
  let http = false
  try {
    http = /^https?:$/.test(new URL(baseUrl, page?.href).protocol)
  } catch {
    // Invalid, or relative without a page: reported below.
  }
  if (!http)
    throw new TokenflightError(
      'oauth2Client: baseUrl must be an absolute http(s) URL (a relative one works only in a browser, against the page)',
    )
  const base = baseUrl.replace(/\/+$/, '')

  // No refresh token: the server keeps it in an httpOnly cookie, which fetch sends.
  const grant = ({ refreshToken }: TokenSet): Record<string, string> =>
    refreshToken ? { refresh_token: refreshToken } : {}

  /**
   * POSTs `body` (a form, JSON, or nothing); resolves with the parsed JSON answer. `secrets`
   * are what the request carried: redacted from anything the server says back.
   */
  const post = async (
    path: string,
    body: URLSearchParams | Record<string, string> | undefined,
    signal: AbortSignal,
    secrets: Array<string | undefined>,
    // A logout: its answer may be empty, and it may carry the access token.
    logout?: { bearer: string | undefined },
  ) => {
    const form = body instanceof URLSearchParams
    // The path without its query: a query may hold the refresh token.
    const endpoint = path.replace(/\?.*/, '')
    let response: Response
    let text: string | undefined
    try {
      // The global fetch is looked up per call, so that MSW and other patches apply.
      response = await (customFetch ?? fetch)(base + path, {
        method: 'POST',
        signal,
        headers: {
          accept: 'application/json',
          // A URLSearchParams body sets its own form content type.
          ...(body && !form && { 'content-type': 'application/json' }),
          ...(logout?.bearer && { authorization: `Bearer ${logout.bearer}` }),
        },
        ...(body && { body: form ? body : JSON.stringify(body) }),
      })
      text = await readCapped(response)
    } catch (cause) {
      throw signal.aborted
        ? signal.reason
        : new TokenflightError(`${endpoint} could not be reached`, { cause })
    }
    if (text === undefined && response.ok && !logout)
      throw new InvalidTokenResponseError(
        `${endpoint} answered more than ${MAX_ANSWER_BYTES} bytes`,
      )
    let data: Record<string, unknown> | undefined
    try {
      data = JSON.parse(text!) as typeof data
    } catch {
      // Not JSON: fine for logout, an error below for the token endpoints.
    }
    if (!response.ok) {
      // Only strings are kept, with the request's secrets and any JWT cut out: the rest of an
      // error body (pydantic's `input`, say) may echo a token or a password.
      const kept: Record<string, string> = {}
      for (const key of ['error', 'error_description', 'detail'] as const) {
        let value = Object(data)[key] as unknown
        if (typeof value !== 'string') continue
        for (const secret of secrets)
          if (secret) value = (value as string).split(secret).join('[redacted]')
        kept[key] = (value as string).replace(JWT, '[redacted]')
      }
      // FastAPI's 422: which fields it refused (their names, never their values).
      const { detail } = Object(data) as { detail?: unknown }
      const fields = Array.isArray(detail)
        ? detail
            .map((d) => Object(d).loc)
            .filter(Array.isArray)
            .map((loc: unknown[]) => loc.join('.'))
            .join(', ')
        : ''
      const retryAfter = response.headers.get('retry-after')
      throw new OAuth2HttpError(endpoint, response.status, kept, {
        ...(retryAfter && { headers: { 'retry-after': retryAfter } }),
        ...(fields && { summary: `invalid ${fields}` }),
      })
    }
    if (data === undefined && !logout)
      throw new InvalidTokenResponseError(
        `${endpoint} answered a non-JSON body`,
      )
    return data
  }

  const refresh: OAuth2Client['refresh'] = async ({ tokens, signal }) => {
    const fields = grant(tokens)
    const query = refreshBody === 'query' && `${new URLSearchParams(fields)}`
    return post(
      query
        ? `${refreshPath}${refreshPath.includes('?') ? '&' : '?'}${query}`
        : refreshPath,
      refreshBody === 'form'
        ? new URLSearchParams({ grant_type: 'refresh_token', ...fields })
        : refreshBody === 'query'
          ? undefined
          : fields,
      signal,
      [tokens.refreshToken, tokens.accessToken],
    )
  }

  return {
    async login(credentials, { signal }) {
      const { username, password } = Object(credentials) as Record<
        string,
        unknown
      >
      if (typeof username !== 'string' || typeof password !== 'string')
        throw new TokenflightError('login expects { username, password }')
      return post(
        tokenPath,
        new URLSearchParams({ grant_type: 'password', username, password }),
        signal,
        [password],
      )
    },

    refresh,

    async logout({ tokens, signal }) {
      if (logoutPath === false) return
      const send = (bearer?: string) =>
        post(
          logoutPath,
          grant(tokens),
          signal,
          [tokens.refreshToken, tokens.accessToken],
          { bearer },
        )
      await send(tokens.accessToken).catch((e: unknown) => {
        // The access token was refused (expired, most often). The refresh token in the body
        // is credential enough to revoke it (RFC 7009): send it once more, alone.
        if ((e as { status?: unknown }).status !== 401 || !tokens.refreshToken)
          throw e
        return send()
      })
    },
  }
}
