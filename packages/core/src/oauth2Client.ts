import {
  InvalidTokenResponseError,
  OAuth2HttpError,
  TokenflightError,
} from './errors'
import type { LoginContext, LogoutContext, RefreshContext } from './types'

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
  const post = async (
    path: string,
    body: URLSearchParams | Record<string, string>,
    signal: AbortSignal,
    accessToken?: string,
  ) => {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (accessToken) headers.authorization = `Bearer ${accessToken}`
    const form = body instanceof URLSearchParams
    headers['content-type'] = form
      ? 'application/x-www-form-urlencoded'
      : 'application/json'
    let response: Response
    let text: string
    try {
      response = await (customFetch ?? globalThis.fetch)(
        baseUrl.replace(/\/+$/, '') + path,
        {
          method: 'POST',
          headers,
          body: form ? body.toString() : JSON.stringify(body),
          signal,
        },
      )
      text = await response.text()
    } catch (cause) {
      if (signal.aborted) throw signal.reason
      throw new TokenflightError(`${path} could not be reached`, { cause })
    }
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch {
      data = undefined
    }
    if (!response.ok) {
      // Copy only the RFC 6749 §5.2 fields: the rest of an error body is none of ours to keep.
      const { error, error_description } = (data ?? {}) as Record<
        string,
        unknown
      >
      throw new OAuth2HttpError(path, response.status, {
        ...(typeof error === 'string' && { error }),
        ...(typeof error_description === 'string' && { error_description }),
      })
    }
    return data
  }

  const tokenResponse = async (promise: Promise<unknown>, path: string) => {
    const data = await promise
    if (data === undefined)
      throw new InvalidTokenResponseError(`${path} answered a non-JSON body`)
    return data
  }

  return {
    login(credentials, { signal }) {
      const { username, password } = (credentials ?? {}) as Record<
        string,
        unknown
      >
      if (typeof username !== 'string' || typeof password !== 'string')
        return Promise.reject(
          new TokenflightError('login expects { username, password } strings'),
        )
      const form = new URLSearchParams({
        grant_type: 'password',
        username,
        password,
      })
      return tokenResponse(post(tokenPath, form, signal), tokenPath)
    },

    refresh({ tokens, signal }) {
      // No refresh token: the server keeps it in an httpOnly cookie, which fetch sends.
      const grant = tokens.refreshToken
        ? { refresh_token: tokens.refreshToken }
        : {}
      const body =
        refreshBody === 'form'
          ? new URLSearchParams({ grant_type: 'refresh_token', ...grant })
          : grant
      return tokenResponse(post(refreshPath, body, signal), refreshPath)
    },

    async logout({ tokens, signal }) {
      const body = tokens.refreshToken
        ? { refresh_token: tokens.refreshToken }
        : {}
      await post(logoutPath, body, signal, tokens.accessToken)
    },
  }
}
