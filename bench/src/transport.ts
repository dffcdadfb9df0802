import axios, { AxiosError } from 'axios'
import type { AxiosAdapter, AxiosResponse } from 'axios'
import type { AuthServer } from '@tokenflight/mock-server'

/** One request as the server saw it (only while `record` is on). */
export type SeenRequest = {
  path: string
  authorization: string | null
  /** The `x-bench-tag` header a case put on its own requests. */
  tag: string | null
  status: number
}

type Hold = {
  matches: (path: string, status: number) => boolean
  until: Promise<void>
}

/** Header a case uses to find its own requests among retries and refreshes. */
export const TAG_HEADER = 'x-bench-tag'

/**
 * The mock server behind an in-memory axios adapter, with what the cases need
 * to watch it from outside: what it saw, when the refresh answered, and a way
 * to hold responses back. Every contender talks to it the same way.
 */
export class Transport {
  readonly server: AuthServer
  record = false
  readonly seen: SeenRequest[] = []
  /** 401s of protected resources handed back to the client. */
  unauthorizedDelivered = 0
  /** performance.now() when each refresh call arrived and when its answer was handed back. */
  readonly refreshArrivals: number[] = []
  readonly refreshResponses: number[] = []
  #holds: Hold[] = []

  constructor(server: AuthServer) {
    this.server = server
  }

  /** Holds back answers that match until `until` settles (the request was already handled). */
  holdResponses(
    matches: (path: string, status: number) => boolean,
    until: Promise<void>,
  ): void {
    this.#holds.push({ matches, until })
  }

  handle = async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname
    const isRefresh = path === '/refresh'
    if (isRefresh) this.refreshArrivals.push(performance.now())
    const response = await this.server.handle(request)
    const status = response.status
    if (this.record)
      this.seen.push({
        path,
        authorization: request.headers.get('authorization'),
        tag: request.headers.get(TAG_HEADER),
        status,
      })
    for (const hold of this.#holds)
      if (hold.matches(path, status)) await hold.until
    if (isRefresh) this.refreshResponses.push(performance.now())
    if (status === 401 && (path === '/todos' || path === '/me'))
      this.unauthorizedDelivered++
    return response
  }

  /**
   * An axios adapter that turns the config into a web Request, calls the
   * server in memory and settles like axios' own adapters: no sockets, no
   * MSW, so what is left to measure is the client.
   */
  adapter: AxiosAdapter = async (config) => {
    const method = (config.method ?? 'get').toUpperCase()
    const headers = new Headers()
    for (const [name, value] of Object.entries(config.headers.toJSON()))
      if (value !== undefined && value !== null)
        headers.set(name, Array.isArray(value) ? value.join(', ') : value)
    const body =
      method === 'GET' || method === 'HEAD'
        ? undefined
        : (config.data as BodyInit | undefined)
    const request = new Request(axios.getUri(config), {
      method,
      headers,
      body: body ?? null,
    })
    const answer = await this.handle(request)
    if (answer.type === 'error')
      throw new AxiosError(
        'Network Error',
        AxiosError.ERR_NETWORK,
        config,
        request,
      )
    const response: AxiosResponse = {
      data: await answer.text(),
      status: answer.status,
      statusText: answer.statusText,
      headers: Object.fromEntries(answer.headers),
      config,
      request,
    }
    const validate = config.validateStatus
    if (!validate || validate(answer.status)) return response
    throw new AxiosError(
      `Request failed with status code ${answer.status}`,
      answer.status >= 500
        ? AxiosError.ERR_BAD_RESPONSE
        : AxiosError.ERR_BAD_REQUEST,
      config,
      request,
      response,
    )
  }
}
