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
  /** e.g. 'https://api.example.com' or '' for same-origin paths. */
  baseUrl: string
  /** Default '/token'. */
  tokenPath?: string
  /** Default '/refresh'. */
  refreshPath?: string
  /** Default '/logout'. */
  logoutPath?: string
  /** How the refresh token is posted: JSON `{ refresh_token }` (default) or form `grant_type=refresh_token`. */
  refreshBody?: 'json' | 'form'
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

/** fetch-based endpoints for the usual FastAPI OAuth2 contract; spread them into createSession. */
export function oauth2Client({
  baseUrl,
  tokenPath = '/token',
  refreshPath = '/refresh',
  logoutPath = '/logout',
  refreshBody = 'json',
  fetch: customFetch,
}: OAuth2ClientOptions): OAuth2Client {
  // No refresh token: the server keeps it in an httpOnly cookie, which fetch sends.
  const grant = ({ refreshToken }: TokenSet): Record<string, string> =>
    refreshToken ? { refresh_token: refreshToken } : {}

  /** POSTs `body` (a form, or JSON); resolves with the parsed JSON answer. */
  const post = async (
    path: string,
    body: URLSearchParams | Record<string, string>,
    signal: AbortSignal,
    accessToken?: string,
  ) => {
    const form = body instanceof URLSearchParams
    let response: Response
    let text: string
    try {
      // The global fetch is looked up per call, so that MSW and other patches apply.
      response = await (customFetch ?? fetch)(
        baseUrl.replace(/\/+$/, '') + path,
        {
          method: 'POST',
          signal,
          headers: {
            accept: 'application/json',
            // A URLSearchParams body sets its own form content type.
            ...(!form && { 'content-type': 'application/json' }),
            ...(accessToken && { authorization: `Bearer ${accessToken}` }),
          },
          body: form ? body : JSON.stringify(body),
        },
      )
      text = await response.text()
    } catch (cause) {
      throw signal.aborted
        ? signal.reason
        : new TokenflightError(`${path} could not be reached`, { cause })
    }
    let data: { error?: unknown; error_description?: unknown } | undefined
    try {
      data = JSON.parse(text) as typeof data
    } catch {
      // Not JSON: fine for logout, an error below for the token endpoints.
    }
    if (!response.ok) {
      // Only the RFC 6749 §5.2 fields are kept: the rest of an error body may echo a token.
      const { error, error_description } = Object(data) as NonNullable<
        typeof data
      >
      throw new OAuth2HttpError(path, response.status, {
        ...(typeof error === 'string' && { error }),
        ...(typeof error_description === 'string' && { error_description }),
      })
    }
    // Only logout sends the access token, and its answer may be empty.
    if (data === undefined && !accessToken)
      throw new InvalidTokenResponseError(`${path} answered a non-JSON body`)
    return data
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
      )
    },

    async refresh({ tokens, signal }) {
      return post(
        refreshPath,
        refreshBody === 'form'
          ? new URLSearchParams({
              grant_type: 'refresh_token',
              ...grant(tokens),
            })
          : grant(tokens),
        signal,
      )
    },

    async logout({ tokens, signal }) {
      await post(logoutPath, grant(tokens), signal, tokens.accessToken)
    },
  }
}
