import type { Context } from './context.ts'
import { jsonResponse, noContent, oauthError, readFields } from './responses.ts'
import { auditSnapshot, statsSnapshot } from './audit.ts'
import { validationError } from './todos.ts'
import type { AuthServer, Endpoint, Fault } from './types.ts'

// `/__admin/*`: the test hooks over HTTP, for a browser app or a client of the real
// server. Never faulted, never authenticated.

type Hooks = Pick<
  AuthServer,
  'expireAccessTokens' | 'revokeSessions' | 'reset' | 'inject'
>

export function adminRoutes(ctx: Context, hooks: Hooks) {
  return {
    'admin.expireAccessTokens': async () => {
      hooks.expireAccessTokens()
      return noContent()
    },
    'admin.revokeSessions': async (request: Request) => {
      const body = await readFields(request, { form: true })
      if (!body.ok) return body.response
      const { username } = body.fields
      if (username !== undefined && typeof username !== 'string')
        return oauthError('invalid_request', 'username must be a string')
      hooks.revokeSessions(username)
      return noContent()
    },
    'admin.reset': async () => {
      hooks.reset()
      return noContent()
    },
    // Read under the store's lock: a shared store answers with every tab's events.
    'admin.stats': () =>
      ctx.store.run((state) =>
        jsonResponse(200, statsSnapshot(state), {
          'Cache-Control': 'no-store',
        }),
      ),
    'admin.audit': () =>
      ctx.store.run((state) =>
        jsonResponse(200, auditSnapshot(state), {
          'Cache-Control': 'no-store',
        }),
      ),
    'admin.faults': async (request: Request) => {
      const body = await readFields(request, { form: false })
      if (!body.ok) return body.response
      const fault = parseFault(body.fields)
      if (typeof fault === 'string')
        return validationError([{ loc: ['body'], msg: fault }])
      hooks.inject(fault)
      return noContent()
    },
  }
}

const ENDPOINTS: ReadonlyArray<Endpoint> = [
  'token',
  'refresh',
  'logout',
  'revoke',
  'me',
  'todos',
  'any',
]

/** A fault from JSON (admin route); `gate` cannot travel over HTTP. */
export function parseFault(fields: Record<string, unknown>): Fault | string {
  const { endpoint, times, kind } = fields
  if (typeof endpoint !== 'string' || !ENDPOINTS.includes(endpoint as Endpoint))
    return `endpoint must be one of ${ENDPOINTS.join(', ')}`
  if (
    times !== undefined &&
    (typeof times !== 'number' || !Number.isInteger(times) || times < 1)
  )
    return 'times must be a positive integer'
  const base = {
    endpoint: endpoint as Endpoint,
    ...(times === undefined ? {} : { times }),
  }
  switch (kind) {
    case 'delay':
      if (typeof fields.ms !== 'number' || !(fields.ms >= 0))
        return 'ms must be a number >= 0'
      return { ...base, kind, ms: fields.ms }
    case 'hang':
    case 'network-error':
    case 'drop-after-rotate':
      return { ...base, kind }
    case 'status':
      if (
        typeof fields.status !== 'number' ||
        !Number.isInteger(fields.status) ||
        fields.status < 200 ||
        fields.status > 599
      )
        return 'status must be an integer between 200 and 599'
      return {
        ...base,
        kind,
        status: fields.status,
        ...(fields.body === undefined ? {} : { body: fields.body }),
      }
    case 'malformed':
      if (fields.body !== undefined && typeof fields.body !== 'string')
        return 'body must be a string'
      return {
        ...base,
        kind,
        ...(fields.body === undefined ? {} : { body: fields.body }),
      }
    default:
      return 'kind must be one of delay, hang, network-error, status, malformed, drop-after-rotate'
  }
}
