// `pnpm demo` serves the mock auth server from the Vite dev server itself, under /api: one
// server state for every tab of the demo, which outlives a reload. That is what two tabs
// sharing one refresh need (the service worker gives every page its own server, and a reload
// a new one). A build keeps the service worker; VITE_TOKENFLIGHT_API still picks a real server.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type * as MockServer from '@tokenflight/mock-server'
import type { AuthServer } from '@tokenflight/mock-server'
import type { Plugin } from 'vite'

/** Access-token lifetime of the dev server's mock; TOKENFLIGHT_DEMO_TTL=SECONDS overrides it. */
const DEFAULT_TTL_SEC = 60

export function mockApi(): Plugin {
  return {
    name: 'tokenflight-mock-api',
    apply: 'serve',
    configureServer(server) {
      let auth: Promise<AuthServer> | undefined
      // Loaded through Vite, from the package's src: nothing needs building first.
      const start = async () => {
        const { createAuthServer } = (await server.ssrLoadModule(
          '@tokenflight/mock-server',
        )) as typeof MockServer
        const ttl = Number(process.env.TOKENFLIGHT_DEMO_TTL)
        return createAuthServer({
          accessTokenTtlSec: ttl > 0 ? ttl : DEFAULT_TTL_SEC,
        })
      }
      server.middlewares.use('/api', (req, res, next) => {
        ;(auth ??= start()).then((a) => forward(a, req, res)).catch(next)
      })
    },
  }
}

/** One node:http request through `auth.handle`, as the mock's own node server does it. */
async function forward(
  auth: AuthServer,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers))
    for (const item of [value ?? []].flat()) headers.append(name, item)
  const method = req.method ?? 'GET'
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  const response = await auth.handle(
    new Request(url, {
      method,
      headers,
      ...(method === 'GET' || method === 'HEAD'
        ? {}
        : { body: Buffer.concat(chunks) }),
    }),
    { pathname: url.pathname },
  )
  if (response.type === 'error') return void req.socket.destroy()
  res.writeHead(response.status, Object.fromEntries(response.headers))
  res.end(Buffer.from(await response.arrayBuffer()))
}
