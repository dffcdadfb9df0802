import { HttpResponse, http, type HttpHandler } from 'msw'
import { ADMIN_PREFIX, ROUTES } from './routes.ts'
import type { AuthServer } from './types.ts'

// One handler per route, then every other admin path (the server answers it with a 404).
const PATHS = [...ROUTES.map((route) => route.path), `${ADMIN_PREFIX}/*`]

/**
 * MSW 2 handlers serving `server`. Without `baseUrl` the paths are relative:
 * the page's origin in a browser (or jsdom), any origin where there is no
 * `location` (Node). With one (`'http://api.test'`, or `'http://api.test/v1'`
 * for a prefix) only that origin and prefix match.
 */
export function authHandlers(
  server: AuthServer,
  options: { baseUrl?: string } = {},
): HttpHandler[] {
  const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '')
  const basePath = baseUrl.startsWith('/')
    ? baseUrl
    : baseUrl === ''
      ? ''
      : new URL(baseUrl).pathname.replace(/\/+$/, '')
  // Relative paths match nothing in Node: there, '' means "any origin".
  const prefix =
    baseUrl === '' && typeof location === 'undefined' ? '*' : baseUrl
  return PATHS.map((path) =>
    http.all(`${prefix}${path}`, async ({ request }) => {
      const pathname = new URL(request.url).pathname.slice(basePath.length)
      const response = await server.handle(request, { pathname })
      return response.type === 'error' ? HttpResponse.error() : response
    }),
  )
}
