import { adminRoutes } from './admin.ts'
import { auditSnapshot, record, statsSnapshot } from './audit.ts'
import type { Context } from './context.ts'
import { applyFault, Gates, storedFault, takeFault } from './faults.ts'
import { tokenRoute, refreshRoute } from './grants.ts'
import { internals } from './internals.ts'
import { resolveOptions } from './options.ts'
import { jsonResponse } from './responses.ts'
import { logoutRoute, revokeRoute } from './revocation.ts'
import { matchRoute, type RouteId } from './routes.ts'
import { clearState, memoryStore } from './state.ts'
import { revokeFamily } from './tokenStore.ts'
import { todosRoute } from './todos.ts'
import type {
  AuditEntry,
  AuthServer,
  AuthServerOptions,
  AuthStats,
  Fault,
} from './types.ts'
import { protectedResource } from './bearer.ts'

export { DEFAULT_USER } from './options.ts'

/**
 * An OAuth2-shaped auth server as pure logic: short-lived HS256 access JWTs,
 * rotating opaque refresh tokens grouped in families with reuse detection, a
 * per-user to-do list as protected resource, and fault injection. Serve it
 * with `authHandlers` (MSW) or `startAuthServer` (node:http).
 */
export function createAuthServer(options: AuthServerOptions = {}): AuthServer {
  return new MockAuthServer(options)
}

type Run = (request: Request, id: string | undefined) => Promise<Response>

class MockAuthServer implements AuthServer {
  readonly #ctx: Context
  readonly #gates = new Gates()
  readonly #routes: Record<RouteId, Run>
  // Settles on reset(), releasing hung and gated requests.
  #release!: () => void
  #released = this.#newRelease()

  constructor(options: AuthServerOptions) {
    const ctx: Context = {
      settings: resolveOptions(options),
      store: memoryStore(),
    }
    this.#ctx = ctx
    this.#routes = {
      token: (request) => tokenRoute(ctx, request),
      refresh: (request) => refreshRoute(ctx, request),
      logout: (request) => logoutRoute(ctx, request),
      revoke: (request) => revokeRoute(ctx, request),
      me: (request) =>
        protectedResource(ctx, request, (user) =>
          jsonResponse(200, { username: user }),
        ),
      todos: (request) => todosRoute(ctx, request, undefined),
      todo: (request, id) => todosRoute(ctx, request, id),
      ...adminRoutes(ctx, this),
    }
    internals.set(this, {
      ctx,
      gates: this.#gates,
      releaseHeld: () => this.#releaseHeld(),
      onReset: undefined,
    })
  }

  get stats(): Readonly<AuthStats> {
    return statsSnapshot(this.#ctx.store.peek())
  }

  get audit(): ReadonlyArray<Readonly<AuditEntry>> {
    return auditSnapshot(this.#ctx.store.peek())
  }

  inject(fault: Fault): void {
    const times = fault.times ?? 1
    if (!Number.isInteger(times) || times < 1)
      throw new RangeError('fault.times must be a positive integer')
    const stored = storedFault(fault, this.#gates)
    this.#ctx.store.apply((state) => {
      state.faults.push({ fault: stored, remaining: times })
    })
  }

  expireAccessTokens(): void {
    this.#ctx.store.apply((state) => {
      for (const access of state.access.values()) access.expiresAt = -Infinity
      record(this.#ctx, state, {
        event: 'expire-access-tokens',
        outcome: 'ok',
      })
    })
  }

  revokeSessions(username?: string): void {
    this.#ctx.store.apply((state) => {
      let count = 0
      for (const family of state.families.values()) {
        if (username !== undefined && family.user !== username) continue
        if (revokeFamily(state, family)) count++
      }
      record(this.#ctx, state, {
        event: 'revoke-sessions',
        ...(username === undefined ? {} : { user: username }),
        outcome: `revoked ${count} famil${count === 1 ? 'y' : 'ies'}`,
      })
    })
  }

  reset(): void {
    this.#ctx.store.apply(clearState)
    this.#releaseHeld()
    internals.get(this)?.onReset?.()
  }

  async handle(
    request: Request,
    options: { pathname?: string } = {},
  ): Promise<Response> {
    try {
      return await this.#handle(request, options)
    } catch {
      // A bug here must look like a server error to the client, not hang it.
      return jsonResponse(500, {
        error: 'server_error',
        error_description: 'the mock auth server failed',
      })
    }
  }

  async #handle(
    request: Request,
    options: { pathname?: string },
  ): Promise<Response> {
    const matched = matchRoute(
      options.pathname ?? new URL(request.url).pathname,
    )
    if (matched === undefined) return jsonResponse(404, { detail: 'Not Found' })
    const { spec, id } = matched
    const method = request.method.toUpperCase()
    if (!spec.methods.includes(method)) {
      const allow = [...spec.methods, 'OPTIONS'].join(', ')
      return method === 'OPTIONS'
        ? new Response(null, { status: 204, headers: { Allow: allow } })
        : jsonResponse(405, { detail: 'Method Not Allowed' }, { Allow: allow })
    }
    const run = () => this.#routes[spec.id](request, id)
    const endpoint = spec.endpoint
    if (endpoint === 'admin') return run()
    const fault = await this.#ctx.store.run((state) =>
      takeFault(this.#ctx, state, endpoint),
    )
    if (fault === undefined) return run()
    return applyFault(this.#ctx, {
      fault,
      endpoint,
      request,
      run,
      released: this.#released,
      gates: this.#gates,
    })
  }

  /** Lets every held request (`hang`, `gate`, `delay`) go without running its route. */
  #releaseHeld(): void {
    this.#gates.clear()
    this.#release()
    this.#released = this.#newRelease()
  }

  #newRelease(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#release = resolve
    })
  }
}
