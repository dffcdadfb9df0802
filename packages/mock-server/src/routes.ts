import type { Endpoint } from './types.ts'

// The one list of routes. The server dispatches from it, `authHandlers` makes one MSW
// handler per entry, the CLI prints it, and a test holds the README's tables to it.

export type RouteSpec = {
  readonly id: RouteId
  /** `:id` marks a path parameter. */
  readonly path: string
  readonly methods: readonly string[]
  /** The endpoint faults target; admin routes are never faulted. */
  readonly endpoint: Exclude<Endpoint, 'any'> | 'admin'
  /** What it does, in a few words (CLI banner). */
  readonly summary: string
}

export type RouteId =
  | 'token'
  | 'refresh'
  | 'logout'
  | 'revoke'
  | 'me'
  | 'todos'
  | 'todo'
  | 'admin.expireAccessTokens'
  | 'admin.revokeSessions'
  | 'admin.reset'
  | 'admin.stats'
  | 'admin.audit'
  | 'admin.faults'

/** Admin routes live below this prefix. */
export const ADMIN_PREFIX = '/__admin'

export const ROUTES: readonly RouteSpec[] = [
  route('token', 'POST /token', 'token', 'log in (form or JSON)'),
  route('refresh', 'POST /refresh', 'refresh', 'rotate a refresh token'),
  route('logout', 'POST /logout', 'logout', 'revoke the session'),
  route('revoke', 'POST /revoke', 'revoke', 'RFC 7009 revocation'),
  route('me', 'GET /me', 'me', 'who am I (protected)'),
  route('todos', 'GET/POST /todos', 'todos', 'to-do list (protected)'),
  route('todo', 'GET/PATCH/DELETE /todos/:id', 'todos', 'one to-do'),
  admin(
    'admin.expireAccessTokens',
    'POST expire-access-tokens',
    'expire every access token',
  ),
  admin(
    'admin.revokeSessions',
    'POST revoke-sessions',
    "revoke every session (or one user's)",
  ),
  admin('admin.reset', 'POST reset', 'forget everything'),
  admin('admin.stats', 'GET stats', 'counters'),
  admin('admin.audit', 'GET audit', 'token events'),
  admin('admin.faults', 'POST faults', 'inject a fault'),
]

function route(
  id: RouteId,
  methodsAndPath: string,
  endpoint: RouteSpec['endpoint'],
  summary: string,
): RouteSpec {
  const [methods, path] = methodsAndPath.split(' ') as [string, string]
  return { id, path, methods: methods.split('/'), endpoint, summary }
}

function admin(id: RouteId, methodAndName: string, summary: string) {
  const [method, name] = methodAndName.split(' ') as [string, string]
  return route(id, `${method} ${ADMIN_PREFIX}/${name}`, 'admin', summary)
}

/** `GET/POST /todos`: how the banner and the README name a route. */
export const describeRoute = (spec: RouteSpec): string =>
  `${spec.methods.join('/')} ${spec.path}`

const patterns = ROUTES.map((spec) => ({
  spec,
  pattern: new RegExp(`^${spec.path.replace(/:\w+/g, '([^/]+)')}$`),
}))

/** The route serving `pathname` (a trailing slash is ignored) and its `:id`, if any. */
export function matchRoute(
  pathname: string,
): { spec: RouteSpec; id: string | undefined } | undefined {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname
  for (const { spec, pattern } of patterns) {
    const match = pattern.exec(path)
    if (match) return { spec, id: match[1] }
  }
  return undefined
}
