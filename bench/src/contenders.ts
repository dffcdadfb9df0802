import axios from 'axios'
import type {
  AxiosAdapter,
  AxiosError,
  AxiosInstance,
  InternalAxiosRequestConfig,
} from 'axios'
import { createAuthRefresh } from 'axios-auth-refresh'
import { createSession } from '@tokenflight/core'
import { attachSession } from '@tokenflight/axios'

/** How a client reaches the server: an in-memory adapter, or axios' own (MSW, sockets). */
export type Wire = { baseURL: string; adapter?: AxiosAdapter }

/** The body of POST /token and POST /refresh. */
export type TokenBody = {
  access_token: string
  refresh_token: string
  token_type: string
  expires_in: number
}

export type ContenderId =
  'tokenflight' | 'aar' | 'aar-no-dedupe' | 'naive' | 'bare' | 'bare-control'

export type Client = { http: AxiosInstance; detach: () => void }

export type Contender = {
  id: ContenderId
  label: string
  /** false: bare axios, which only runs the happy path. */
  refreshes: boolean
  create(wire: Wire, tokens: TokenBody): Promise<Client>
}

function instance(wire: Wire): AxiosInstance {
  return axios.create({
    baseURL: wire.baseURL,
    ...(wire.adapter ? { adapter: wire.adapter } : {}),
  })
}

export async function login(wire: Wire): Promise<TokenBody> {
  const body = new URLSearchParams({
    username: 'demo',
    password: 'demo-password',
  })
  const { data } = await instance(wire).post<TokenBody>('/token', body, {
    responseType: 'json',
  })
  return typeof data === 'string' ? (JSON.parse(data) as TokenBody) : data
}

/** POST /refresh through a separate plain instance, as every README does. */
async function postRefresh(
  http: AxiosInstance,
  refreshToken: string,
): Promise<TokenBody> {
  const { data } = await http.post<TokenBody>('/refresh', {
    refresh_token: refreshToken,
  })
  return data
}

const tokenflight: Contender = {
  id: 'tokenflight',
  label: 'tokenflight',
  refreshes: true,
  async create(wire, tokens) {
    const refreshHttp = instance(wire)
    const session = createSession({
      refresh: ({ tokens: current, signal }) =>
        refreshHttp
          .post<TokenBody>(
            '/refresh',
            { refresh_token: current.refreshToken },
            { signal },
          )
          .then((r) => r.data),
      // The heap case parks 10,000 requests on a gated refresh for a while.
      refreshTimeoutMs: 120_000,
    })
    await session.setTokens(tokens)
    const http = instance(wire)
    return { http, detach: attachSession(http, session) }
  },
}

/**
 * axios-auth-refresh 5.0.2 as its README sets it up: refresh logic that
 * stores the new token and patches the failed request, plus a request
 * interceptor that reads the current token.
 */
function axiosAuthRefresh(deduplicateRefresh: boolean): Contender {
  return {
    id: deduplicateRefresh ? 'aar' : 'aar-no-dedupe',
    label: deduplicateRefresh
      ? 'axios-auth-refresh'
      : 'axios-auth-refresh (deduplicateRefresh: false)',
    refreshes: true,
    async create(wire, tokens) {
      let current = tokens
      const refreshHttp = instance(wire)
      const http = instance(wire)
      const id = createAuthRefresh(
        http,
        async (failedRequest: AxiosError) => {
          current = await postRefresh(refreshHttp, current.refresh_token)
          failedRequest.response!.config.headers['Authorization'] =
            `Bearer ${current.access_token}`
        },
        deduplicateRefresh ? {} : { deduplicateRefresh: false },
      )
      const request = http.interceptors.request.use((config) => {
        config.headers['Authorization'] = `Bearer ${current.access_token}`
        return config
      })
      return {
        http,
        detach: () => {
          http.interceptors.response.eject(id)
          http.interceptors.request.eject(request)
        },
      }
    },
  }
}

/** What most hand-written interceptors do: refresh on every 401, retry once. */
const naive: Contender = {
  id: 'naive',
  label: 'naive interceptor',
  refreshes: true,
  async create(wire, tokens) {
    let current = tokens
    const refreshHttp = instance(wire)
    const http = instance(wire)
    const retried = new WeakSet<InternalAxiosRequestConfig>()
    const request = http.interceptors.request.use((config) => {
      config.headers['Authorization'] = `Bearer ${current.access_token}`
      return config
    })
    const response = http.interceptors.response.use(
      undefined,
      async (error: AxiosError) => {
        const config = error.config
        if (error.response?.status !== 401 || !config || retried.has(config))
          throw error
        retried.add(config)
        current = await postRefresh(refreshHttp, current.refresh_token)
        return http(config)
      },
    )
    return {
      http,
      detach: () => {
        http.interceptors.request.eject(request)
        http.interceptors.response.eject(response)
      },
    }
  },
}

/** No auth logic at all: a fixed, valid token. The happy-path baseline. */
const bare: Contender = {
  id: 'bare',
  label: 'bare axios',
  refreshes: false,
  async create(wire, tokens) {
    const http = instance(wire)
    http.defaults.headers.common['Authorization'] =
      `Bearer ${tokens.access_token}`
    return { http, detach: () => {} }
  },
}

/** A second bare axios: its ratio to the first is the noise floor of a paired measurement. */
const bareControl: Contender = {
  ...bare,
  id: 'bare-control',
  label: 'bare axios again (A/A control)',
}

export const contenders = {
  tokenflight,
  aar: axiosAuthRefresh(true),
  aarNoDedupe: axiosAuthRefresh(false),
  naive,
  bare,
  bareControl,
} as const

/** The contenders that refresh, in table order. */
export const refreshing: readonly Contender[] = [
  contenders.tokenflight,
  contenders.aar,
  contenders.aarNoDedupe,
  contenders.naive,
]
