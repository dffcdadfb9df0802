// What the redirect and `<base href>` page runs: a session, and one request at a time through
// createFetch or an axios instance with attachSession (its XHR or its fetch adapter), each set
// up as the test asks. The test reads what reached the servers from the servers themselves.
import { attachSession } from '@tokenflight/axios'
import { createSession, oauth2Client } from '@tokenflight/core'
import type { Session } from '@tokenflight/core'
import { createFetch } from '@tokenflight/fetch'
import axios, { isAxiosError } from 'axios'

export type Sent = {
  client: 'fetch' | 'axios' | 'axios-fetch'
  url: string
  /** Default: the binding's (the page's origin; for axios, with no baseURL, the same). */
  allowedOrigins?: string[]
  headerName?: string
  redirect?: RequestRedirect
  method?: string
  body?: string
}

export type Outcome = {
  status?: number
  /** The final URL (fetch's response.url, XHR's responseURL). */
  url?: string | undefined
  redirected?: boolean
  /** The name and message of what the call rejected with. */
  error?: string
}

let session: Session | undefined

const requests = {
  /** Signs in at the mock server; resolves with the access token, for the test to look for. */
  async login(baseUrl: string) {
    session = createSession(oauth2Client({ baseUrl }))
    await session.login({ username: 'demo', password: 'demo-password' })
    return session.getSnapshot().tokens!.accessToken
  },

  async send(sent: Sent): Promise<Outcome> {
    if (!session) throw new Error('requests.login() first')
    const options = {
      ...(sent.allowedOrigins && { allowedOrigins: sent.allowedOrigins }),
      ...(sent.headerName && { headerName: sent.headerName }),
    }
    const init = {
      ...(sent.method && { method: sent.method }),
      ...(sent.body && { body: sent.body }),
    }
    try {
      if (sent.client === 'fetch') {
        const response = await createFetch(session, options)(sent.url, {
          ...init,
          ...(sent.redirect && { redirect: sent.redirect }),
        })
        await response.body?.cancel()
        return {
          status: response.status,
          url: response.url,
          redirected: response.redirected,
        }
      }
      const instance = axios.create({
        adapter: sent.client === 'axios' ? 'xhr' : 'fetch',
      })
      attachSession(instance, session, options)
      const response = await instance.request({
        url: sent.url,
        ...(sent.method && { method: sent.method }),
        ...(sent.body && { data: sent.body }),
      })
      return {
        status: response.status,
        url: (response.request as XMLHttpRequest | undefined)?.responseURL,
      }
    } catch (error) {
      const e = error as Error
      return {
        ...(isAxiosError(error) &&
          error.response && { status: error.response.status }),
        error: `${e.name}: ${e.message}`,
      }
    }
  },
}

declare global {
  interface Window {
    requests: typeof requests
  }
}
window.requests = requests
