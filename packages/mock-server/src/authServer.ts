import { SignJWT, base64url, errors, jwtVerify } from 'jose'
import {
  authenticationRequired,
  invalidToken,
  jsonResponse,
  noContent,
  oauthError,
  readFields,
  tokenResponse,
} from './responses.ts'
import type {
  AuditEntry,
  AuthServer,
  AuthServerOptions,
  AuthStats,
  AuthUser,
  Endpoint,
  Fault,
  Todo,
} from './types.ts'

export const DEFAULT_USER: Readonly<AuthUser> = Object.freeze({
  username: 'demo',
  password: 'demo-password',
})

type AccessRecord = {
  sub: string
  family: string
  expiresAt: number
  revoked: boolean
}

type Family = {
  id: string
  user: string
  expiresAt: number
  revoked: boolean
  jtis: Set<string>
}

type RefreshRecord = {
  family: string
  parent: string | undefined
  children: string[]
  rotatedAt: number | undefined
}

type Prepared = {
  accessToken: string
  jti: string
  accessExpiresAt: number
  refreshToken: string
  refreshHash: string
}

type QueuedFault = { fault: Fault; remaining: number }

type RouteSpec = {
  methods: string[]
  endpoint: Exclude<Endpoint, 'any'> | 'admin'
  run: (request: Request) => Promise<Response>
}

type Route =
  | {
      kind: 'endpoint'
      endpoint: Exclude<Endpoint, 'any'>
      run: () => Promise<Response>
    }
  | { kind: 'admin'; run: () => Promise<Response> }
  | { kind: 'response'; response: Response }

const ACCESS_RECORD_SOFT_LIMIT = 50_000

const emptyStats = (): AuthStats => ({
  logins: 0,
  failedLogins: 0,
  refreshes: 0,
  failedRefreshes: 0,
  rotations: 0,
  reuseDetections: 0,
  revokedFamilies: 0,
  unauthorized: 0,
  served: 0,
  faults: 0,
})

const randomToken = (bytes: number): string =>
  base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)))

async function sha256(value: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(value),
  )
  return base64url.encode(new Uint8Array(digest))
}

function positive(
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`${name} must be a finite number >= 0`)
  return value
}

/** Resolves when the client aborts (`signal`) or `reset()` releases held requests. */
function interrupted(
  signal: AbortSignal,
  released: Promise<void>,
): Promise<'aborted by the client' | 'released by reset()'> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve('aborted by the client')
    signal.addEventListener('abort', () => resolve('aborted by the client'), {
      once: true,
    })
    void released.then(() => resolve('released by reset()'))
  })
}

/**
 * An OAuth2-shaped auth server as pure logic: short-lived HS256 access JWTs,
 * rotating opaque refresh tokens grouped in families with reuse detection, a
 * per-user to-do list as protected resource, and fault injection. Serve it
 * with `authHandlers` (MSW) or `startAuthServer` (node:http).
 */
export function createAuthServer(options: AuthServerOptions = {}): AuthServer {
  return new MockAuthServer(options)
}

class MockAuthServer implements AuthServer {
  readonly #users: Map<string, string>
  readonly #accessTtlMs: number
  readonly #refreshTtlMs: number
  readonly #reuseIntervalMs: number
  readonly #key: Uint8Array
  readonly #now: () => number
  readonly #auditLimit: number
  readonly #seedTodos: boolean

  #stats = emptyStats()
  #audit: AuditEntry[] = []
  #faults: QueuedFault[] = []
  #access = new Map<string, AccessRecord>()
  #families = new Map<string, Family>()
  #refresh = new Map<string, RefreshRecord>()
  #todos = new Map<string, Todo[]>()
  #nextTodoId = 1
  #pruneAt = ACCESS_RECORD_SOFT_LIMIT
  // Settles on reset(), releasing hung and gated requests.
  #release!: () => void
  #released = this.#newRelease()

  constructor(options: AuthServerOptions) {
    const users = options.users ?? [DEFAULT_USER]
    this.#users = new Map(users.map((u) => [u.username, u.password]))
    this.#accessTtlMs =
      positive('accessTokenTtlSec', options.accessTokenTtlSec, 900) * 1000
    this.#refreshTtlMs =
      positive('refreshTokenTtlSec', options.refreshTokenTtlSec, 604_800) * 1000
    this.#reuseIntervalMs =
      positive('reuseIntervalSec', options.reuseIntervalSec, 0) * 1000
    const secret = options.secret ?? crypto.getRandomValues(new Uint8Array(32))
    this.#key =
      typeof secret === 'string' ? new TextEncoder().encode(secret) : secret
    this.#now = options.now ?? Date.now
    this.#auditLimit = options.auditLimit ?? 1000
    this.#seedTodos = options.seedTodos ?? true
  }

  get stats(): Readonly<AuthStats> {
    return Object.freeze({ ...this.#stats })
  }

  get audit(): ReadonlyArray<Readonly<AuditEntry>> {
    return Object.freeze(
      this.#audit.map((entry) => Object.freeze({ ...entry })),
    )
  }

  inject(fault: Fault): void {
    const times = fault.times ?? 1
    if (!Number.isInteger(times) || times < 1)
      throw new RangeError('fault.times must be a positive integer')
    this.#faults.push({ fault, remaining: times })
  }

  expireAccessTokens(): void {
    for (const record of this.#access.values()) record.expiresAt = -Infinity
    this.#record({ event: 'expire-access-tokens', outcome: 'ok' })
  }

  revokeSessions(username?: string): void {
    let count = 0
    for (const family of this.#families.values()) {
      if (username !== undefined && family.user !== username) continue
      if (this.#revokeFamily(family)) count++
    }
    this.#record({
      event: 'revoke-sessions',
      ...(username === undefined ? {} : { user: username }),
      outcome: `revoked ${count} famil${count === 1 ? 'y' : 'ies'}`,
    })
  }

  reset(): void {
    this.#stats = emptyStats()
    this.#audit = []
    this.#faults = []
    this.#access.clear()
    this.#families.clear()
    this.#refresh.clear()
    this.#todos.clear()
    this.#nextTodoId = 1
    this.#pruneAt = ACCESS_RECORD_SOFT_LIMIT
    this.#release()
    this.#released = this.#newRelease()
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
    const pathname = options.pathname ?? new URL(request.url).pathname
    const route = this.#route(request, pathname)
    if (route.kind === 'response') return route.response
    if (route.kind === 'admin') return route.run()
    const queued = this.#takeFault(route.endpoint)
    if (queued === undefined) return route.run()
    const fault = queued.fault
    this.#stats.faults++
    this.#record({
      event: 'fault',
      outcome: `${fault.kind} on ${route.endpoint}`,
    })
    const released = this.#released
    const held = async (until: Promise<unknown>): Promise<Response> => {
      const outcome = await Promise.race([
        until.then(
          () => 'ready' as const,
          () => 'ready' as const,
        ),
        interrupted(request.signal, released),
      ])
      if (outcome === 'ready') return route.run()
      // Recorded so a test can tell the route never ran.
      this.#record({
        event: 'fault',
        outcome: `${fault.kind} on ${route.endpoint}: ${outcome}`,
      })
      return Response.error()
    }
    switch (fault.kind) {
      case 'delay': {
        let timer: ReturnType<typeof setTimeout> | undefined
        const response = await held(
          new Promise((resolve) => {
            timer = setTimeout(resolve, fault.ms)
          }),
        )
        clearTimeout(timer)
        return response
      }
      case 'gate':
        return held(fault.until)
      case 'hang':
        return held(new Promise(() => {}))
      case 'network-error':
        return Response.error()
      case 'status': {
        const empty = [204, 205, 304].includes(fault.status)
        const body =
          fault.body === undefined
            ? {
                error: 'injected_fault',
                error_description: `fault injected by the test: HTTP ${fault.status}`,
              }
            : fault.body
        const headers: Record<string, string> = {}
        if (!empty)
          headers['Content-Type'] =
            typeof body === 'string'
              ? 'text/plain; charset=utf-8'
              : 'application/json'
        if (fault.status === 401)
          headers['WWW-Authenticate'] =
            'Bearer error="invalid_token", error_description="injected fault"'
        return new Response(
          empty ? null : typeof body === 'string' ? body : JSON.stringify(body),
          { status: fault.status, headers },
        )
      }
      case 'malformed':
        return new Response(fault.body ?? 'not json', {
          status: 200,
          headers: {
            'Content-Type': 'application/json',
            'Cache-Control': 'no-store',
          },
        })
      case 'drop-after-rotate':
        await route.run()
        return Response.error()
    }
  }

  #newRelease(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#release = resolve
    })
  }

  #takeFault(endpoint: Exclude<Endpoint, 'any'>): QueuedFault | undefined {
    const index = this.#faults.findIndex(
      (q) => q.fault.endpoint === endpoint || q.fault.endpoint === 'any',
    )
    if (index === -1) return undefined
    const queued = this.#faults[index]!
    queued.remaining--
    if (queued.remaining === 0) this.#faults.splice(index, 1)
    return queued
  }

  /** Where a request goes: an endpoint (faults apply), an admin hook, or a 404/405. */
  #route(request: Request, pathname: string): Route {
    const method = request.method.toUpperCase()
    const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname
    const todo = /^\/todos\/([^/]+)$/.exec(path)
    const spec = todo ? this.#todoItemRoute(todo[1]!) : this.#routes[path]
    if (spec === undefined)
      return {
        kind: 'response',
        response: jsonResponse(404, { detail: 'Not Found' }),
      }
    if (spec.methods.includes(method)) {
      const run = () => spec.run(request)
      return spec.endpoint === 'admin'
        ? { kind: 'admin', run }
        : { kind: 'endpoint', endpoint: spec.endpoint, run }
    }
    const allow = [...spec.methods, 'OPTIONS'].join(', ')
    const response =
      method === 'OPTIONS'
        ? new Response(null, { status: 204, headers: { Allow: allow } })
        : jsonResponse(405, { detail: 'Method Not Allowed' }, { Allow: allow })
    return { kind: 'response', response }
  }

  readonly #routes: Partial<Record<string, RouteSpec>> = {
    '/token': {
      methods: ['POST'],
      endpoint: 'token',
      run: (request) => this.#token(request),
    },
    '/refresh': {
      methods: ['POST'],
      endpoint: 'refresh',
      run: (request) => this.#refreshRoute(request),
    },
    '/logout': {
      methods: ['POST'],
      endpoint: 'logout',
      run: (request) => this.#logout(request),
    },
    '/revoke': {
      methods: ['POST'],
      endpoint: 'revoke',
      run: (request) => this.#revoke(request),
    },
    '/me': {
      methods: ['GET'],
      endpoint: 'me',
      run: (request) =>
        this.#protected(request, (user) =>
          jsonResponse(200, { username: user }),
        ),
    },
    '/todos': {
      methods: ['GET', 'POST'],
      endpoint: 'todos',
      run: (request) => this.#todosRoute(request, undefined),
    },
    '/__admin/expire-access-tokens': {
      methods: ['POST'],
      endpoint: 'admin',
      run: async () => {
        this.expireAccessTokens()
        return noContent()
      },
    },
    '/__admin/revoke-sessions': {
      methods: ['POST'],
      endpoint: 'admin',
      run: (request) => this.#adminRevokeSessions(request),
    },
    '/__admin/reset': {
      methods: ['POST'],
      endpoint: 'admin',
      run: async () => {
        this.reset()
        return noContent()
      },
    },
    '/__admin/stats': {
      methods: ['GET'],
      endpoint: 'admin',
      run: async () =>
        jsonResponse(200, this.stats, { 'Cache-Control': 'no-store' }),
    },
    '/__admin/audit': {
      methods: ['GET'],
      endpoint: 'admin',
      run: async () =>
        jsonResponse(200, this.audit, { 'Cache-Control': 'no-store' }),
    },
    '/__admin/faults': {
      methods: ['POST'],
      endpoint: 'admin',
      run: (request) => this.#adminInject(request),
    },
  }

  #todoItemRoute(id: string): RouteSpec {
    return {
      methods: ['GET', 'PATCH', 'DELETE'],
      endpoint: 'todos',
      run: (request) => this.#todosRoute(request, id),
    }
  }

  // ---- token endpoints -------------------------------------------------

  async #token(request: Request): Promise<Response> {
    const body = await readFields(request, { form: true })
    if (!body.ok) return body.response
    const { fields } = body
    const clientError = rejectClient(request, fields)
    if (clientError) return clientError
    const grantType = fields.grant_type
    if (grantType === 'refresh_token') return this.#refreshGrant(fields)
    if (grantType !== undefined && grantType !== 'password' && grantType !== '')
      return oauthError(
        'unsupported_grant_type',
        'grant_type must be "password" or "refresh_token"',
      )
    const { username, password } = fields
    if (typeof username !== 'string' || username === '')
      return oauthError('invalid_request', 'username is required')
    if (typeof password !== 'string' || password === '')
      return oauthError('invalid_request', 'password is required')
    if (this.#users.get(username) !== password) {
      this.#stats.failedLogins++
      this.#record({
        event: 'login',
        ...(this.#users.has(username) ? { user: username } : {}),
        outcome: 'invalid_credentials',
      })
      return oauthError('invalid_grant', 'invalid username or password')
    }
    const family: Family = {
      id: `fam_${randomToken(9)}`,
      user: username,
      expiresAt: this.#now() + this.#refreshTtlMs,
      revoked: false,
      jtis: new Set(),
    }
    const prepared = await this.#prepare(username)
    this.#families.set(family.id, family)
    this.#commit(family, undefined, prepared)
    this.#stats.logins++
    this.#record({
      event: 'login',
      user: username,
      family: family.id,
      outcome: 'ok',
    })
    return this.#tokenAnswer(prepared)
  }

  async #refreshRoute(request: Request): Promise<Response> {
    const body = await readFields(request, { form: true })
    if (!body.ok) return body.response
    const clientError = rejectClient(request, body.fields)
    if (clientError) return clientError
    const grantType = body.fields.grant_type
    if (grantType !== undefined && grantType !== 'refresh_token')
      return oauthError(
        'unsupported_grant_type',
        'grant_type must be "refresh_token"',
      )
    return this.#refreshGrant(body.fields)
  }

  async #refreshGrant(fields: Record<string, unknown>): Promise<Response> {
    const token = fields.refresh_token
    if (typeof token !== 'string' || token === '')
      return oauthError('invalid_request', 'refresh_token is required')
    const hash = await sha256(token)
    const known = this.#refresh.get(hash)
    const family = known && this.#families.get(known.family)
    if (!known || !family)
      return this.#refreshFailed('unknown_token', undefined)
    // Prepare the new pair first; the decision below is synchronous, so
    // concurrent refreshes of one token cannot both rotate it.
    const prepared = await this.#prepare(family.user)
    return this.#rotate(hash, prepared)
  }

  #rotate(hash: string, prepared: Prepared): Response {
    const record = this.#refresh.get(hash)
    const family = record && this.#families.get(record.family)
    if (!record || !family)
      return this.#refreshFailed('unknown_token', undefined)
    const now = this.#now()
    if (family.revoked) return this.#refreshFailed('family_revoked', family)
    if (now >= family.expiresAt)
      return this.#refreshFailed('family_expired', family)
    let outcome = 'rotated'
    if (record.rotatedAt !== undefined) {
      const inInterval =
        this.#reuseIntervalMs > 0 &&
        now - record.rotatedAt < this.#reuseIntervalMs &&
        record.children.every(
          (child) => this.#refresh.get(child)?.rotatedAt === undefined,
        )
      if (!inInterval) {
        this.#revokeFamily(family)
        this.#stats.reuseDetections++
        this.#stats.failedRefreshes++
        this.#record({
          event: 'reuse-detected',
          user: family.user,
          family: family.id,
          outcome: 'family_revoked',
        })
        return oauthError(
          'invalid_grant',
          'refresh token was already used; the session has been revoked',
        )
      }
      // Auth0's behaviour: the immediate parent gets a new sibling child.
      outcome = 'reuse_interval'
    } else {
      record.rotatedAt = now
      this.#stats.rotations++
    }
    this.#commit(family, hash, prepared)
    this.#stats.refreshes++
    this.#record({
      event: 'refresh',
      user: family.user,
      family: family.id,
      outcome,
    })
    return this.#tokenAnswer(prepared)
  }

  #refreshFailed(outcome: string, family: Family | undefined): Response {
    this.#stats.failedRefreshes++
    this.#record({
      event: 'refresh',
      ...(family ? { user: family.user, family: family.id } : {}),
      outcome,
    })
    const description =
      outcome === 'family_expired'
        ? 'refresh token expired'
        : outcome === 'family_revoked'
          ? 'refresh token revoked'
          : 'refresh token is invalid'
    return oauthError('invalid_grant', description)
  }

  async #prepare(user: string): Promise<Prepared> {
    const issuedAt = this.#now()
    const accessExpiresAt = issuedAt + this.#accessTtlMs
    const jti = randomToken(16)
    // `exp` is in whole seconds: round up so jose never rejects before the
    // millisecond expiry tracked per jti (which is checked as well).
    const accessToken = await new SignJWT({ typ: 'access' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user)
      .setJti(jti)
      .setIssuedAt(Math.floor(issuedAt / 1000))
      .setExpirationTime(Math.ceil(accessExpiresAt / 1000))
      .sign(this.#key)
    const refreshToken = randomToken(32)
    return {
      accessToken,
      jti,
      accessExpiresAt,
      refreshToken,
      refreshHash: await sha256(refreshToken),
    }
  }

  #commit(
    family: Family,
    parent: string | undefined,
    prepared: Prepared,
  ): void {
    this.#pruneAccess()
    this.#access.set(prepared.jti, {
      sub: family.user,
      family: family.id,
      expiresAt: prepared.accessExpiresAt,
      revoked: false,
    })
    family.jtis.add(prepared.jti)
    this.#refresh.set(prepared.refreshHash, {
      family: family.id,
      parent,
      children: [],
      rotatedAt: undefined,
    })
    if (parent !== undefined)
      this.#refresh.get(parent)?.children.push(prepared.refreshHash)
  }

  #tokenAnswer(prepared: Prepared): Response {
    return tokenResponse({
      access_token: prepared.accessToken,
      refresh_token: prepared.refreshToken,
      token_type: 'bearer',
      expires_in: Math.round(this.#accessTtlMs / 1000),
    })
  }

  /**
   * Drops expired access records once there are many, so memory stays bounded
   * under load. The threshold doubles with what survives: amortized O(1).
   */
  #pruneAccess(): void {
    if (this.#access.size < this.#pruneAt) return
    const now = this.#now()
    for (const [jti, record] of this.#access)
      if (record.expiresAt <= now) {
        this.#access.delete(jti)
        this.#families.get(record.family)?.jtis.delete(jti)
      }
    this.#pruneAt = Math.max(ACCESS_RECORD_SOFT_LIMIT, this.#access.size * 2)
  }

  /** Revokes a family and its access tokens; false when it already was. */
  #revokeFamily(family: Family): boolean {
    if (family.revoked) return false
    family.revoked = true
    for (const jti of family.jtis) {
      const record = this.#access.get(jti)
      if (record) record.revoked = true
    }
    this.#stats.revokedFamilies++
    return true
  }

  async #logout(request: Request): Promise<Response> {
    const header = request.headers.get('authorization')
    const body = await readFields(request, { form: true })
    if (!body.ok) return body.response
    const refreshToken = body.fields.refresh_token
    if (refreshToken !== undefined && typeof refreshToken !== 'string')
      return oauthError('invalid_request', 'refresh_token must be a string')
    let user: string | undefined
    const families = new Set<Family>()
    if (header !== null || refreshToken === undefined) {
      const auth = await this.#authenticate(request)
      if (!auth.ok) return auth.response
      const record = this.#access.get(auth.jti)
      if (record) record.revoked = true
      user = auth.user
      const family = this.#families.get(auth.family)
      if (family) families.add(family)
    }
    if (refreshToken !== undefined && refreshToken !== '') {
      const record = this.#refresh.get(await sha256(refreshToken))
      const owned = record && this.#families.get(record.family)
      // Somebody else's refresh token is ignored, never revoked.
      if (owned && (user === undefined || owned.user === user)) {
        user = owned.user
        families.add(owned)
      }
    }
    for (const family of families) {
      const outcome = this.#revokeFamily(family)
        ? 'family_revoked'
        : 'already_revoked'
      this.#record({
        event: 'logout',
        user: family.user,
        family: family.id,
        outcome,
      })
    }
    if (families.size === 0 && user !== undefined)
      this.#record({ event: 'logout', user, outcome: 'ok' })
    return noContent()
  }

  async #revoke(request: Request): Promise<Response> {
    const body = await readFields(request, { form: true })
    if (!body.ok) return body.response
    const clientError = rejectClient(request, body.fields)
    if (clientError) return clientError
    const { token, token_type_hint: hint } = body.fields
    if (typeof token !== 'string' || token === '')
      return oauthError('invalid_request', 'token is required')
    if (hint !== undefined && typeof hint !== 'string')
      return oauthError('invalid_request', 'token_type_hint must be a string')
    // RFC 7009 §2.2: an unknown or invalid token still gets a 200.
    const record = this.#refresh.get(await sha256(token))
    const family = record && this.#families.get(record.family)
    if (family) {
      // §2.1: revoking a refresh token revokes the access tokens of the same grant.
      const outcome = this.#revokeFamily(family)
        ? 'family_revoked'
        : 'already_revoked'
      this.#record({
        event: 'revoke',
        user: family.user,
        family: family.id,
        outcome,
      })
      return new Response(null, { status: 200 })
    }
    const access = await this.#verify(token)
    if (access.ok) {
      const accessRecord = this.#access.get(access.jti)
      if (accessRecord) accessRecord.revoked = true
      this.#record({
        event: 'revoke',
        user: access.user,
        family: access.family,
        outcome: 'access_token_revoked',
      })
    } else this.#record({ event: 'revoke', outcome: 'unknown_token' })
    return new Response(null, { status: 200 })
  }

  // ---- protected resources --------------------------------------------

  async #authenticate(
    request: Request,
  ): Promise<
    | { ok: true; user: string; jti: string; family: string }
    | { ok: false; response: Response }
  > {
    const header = request.headers.get('authorization')
    const match = header === null ? null : /^bearer[ ]+(\S+)\s*$/i.exec(header)
    if (header === null || !/^bearer(\s|$)/i.test(header))
      return { ok: false, response: authenticationRequired() }
    if (!match)
      return {
        ok: false,
        response: invalidToken('malformed Authorization header'),
      }
    const result = await this.#verify(match[1]!)
    return result.ok
      ? result
      : { ok: false, response: invalidToken(result.description) }
  }

  async #verify(
    token: string,
  ): Promise<
    | { ok: true; user: string; jti: string; family: string }
    | { ok: false; description: string }
  > {
    let payload
    try {
      ;({ payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        currentDate: new Date(this.#now()),
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      }))
    } catch (error) {
      return { ok: false, description: describeJoseError(error) }
    }
    if (payload.typ !== 'access')
      return { ok: false, description: 'not an access token' }
    const record = this.#access.get(payload.jti!)
    if (!record || record.sub !== payload.sub)
      return { ok: false, description: 'unknown token' }
    if (record.revoked) return { ok: false, description: 'token revoked' }
    if (this.#now() >= record.expiresAt)
      return { ok: false, description: 'token expired' }
    return {
      ok: true,
      user: record.sub,
      jti: payload.jti!,
      family: record.family,
    }
  }

  async #protected(
    request: Request,
    serve: (user: string) => Response | Promise<Response>,
  ): Promise<Response> {
    const auth = await this.#authenticate(request)
    if (!auth.ok) {
      this.#stats.unauthorized++
      return auth.response
    }
    const response = await serve(auth.user)
    if (response.status >= 200 && response.status < 300) this.#stats.served++
    return response
  }

  #todosRoute(request: Request, id: string | undefined): Promise<Response> {
    return this.#protected(request, async (user) => {
      const list = this.#todosOf(user)
      const method = request.method.toUpperCase()
      if (id === undefined && method === 'GET') return jsonResponse(200, list)
      if (id === undefined) {
        const body = await readFields(request, { form: false })
        if (!body.ok) return body.response
        const problems = validateTodo(body.fields, { partial: false })
        if (problems.length > 0) return validationError(problems)
        const todo: Todo = {
          id: this.#nextTodoId++,
          title: (body.fields.title as string).trim(),
          done: (body.fields.done as boolean | undefined) ?? false,
        }
        list.push(todo)
        return jsonResponse(201, todo, { Location: `/todos/${todo.id}` })
      }
      const index = /^[1-9]\d{0,8}$/.test(id)
        ? list.findIndex((t) => t.id === Number(id))
        : -1
      if (index === -1)
        return jsonResponse(404, { detail: `todo ${id} not found` })
      const todo = list[index]!
      if (method === 'GET') return jsonResponse(200, todo)
      if (method === 'DELETE') {
        list.splice(index, 1)
        return noContent()
      }
      const body = await readFields(request, { form: false })
      if (!body.ok) return body.response
      const problems = validateTodo(body.fields, { partial: true })
      if (problems.length > 0) return validationError(problems)
      if (typeof body.fields.title === 'string')
        todo.title = body.fields.title.trim()
      if (typeof body.fields.done === 'boolean') todo.done = body.fields.done
      return jsonResponse(200, todo)
    })
  }

  #todosOf(user: string): Todo[] {
    let list = this.#todos.get(user)
    if (!list) {
      list = this.#seedTodos
        ? [
            {
              id: this.#nextTodoId++,
              title: 'Let the access token expire',
              done: false,
            },
            {
              id: this.#nextTodoId++,
              title: 'Watch tokenflight refresh it once',
              done: false,
            },
          ]
        : []
      this.#todos.set(user, list)
    }
    return list
  }

  // ---- admin -----------------------------------------------------------

  async #adminRevokeSessions(request: Request): Promise<Response> {
    const body = await readFields(request, { form: true })
    if (!body.ok) return body.response
    const { username } = body.fields
    if (username !== undefined && typeof username !== 'string')
      return oauthError('invalid_request', 'username must be a string')
    this.revokeSessions(username)
    return noContent()
  }

  async #adminInject(request: Request): Promise<Response> {
    const body = await readFields(request, { form: false })
    if (!body.ok) return body.response
    const fault = parseFault(body.fields)
    if (typeof fault === 'string')
      return validationError([{ loc: ['body'], msg: fault }])
    this.inject(fault)
    return noContent()
  }

  #record(entry: Omit<AuditEntry, 'at'>): void {
    this.#audit.push({ ...entry, at: this.#now() })
    if (this.#audit.length > this.#auditLimit)
      this.#audit.splice(0, this.#audit.length - this.#auditLimit)
  }
}

/**
 * There are only public clients: client credentials (HTTP Basic or a
 * `client_secret`) name a client we do not know. A bare `client_id` is ignored.
 */
function rejectClient(
  request: Request,
  fields: Record<string, unknown>,
): Response | undefined {
  const basic = /^basic\s/i.test(request.headers.get('authorization') ?? '')
  if (basic || fields.client_secret !== undefined)
    return oauthError(
      'invalid_client',
      'unknown client; this server only has public clients',
    )
  return undefined
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired'
  if (error instanceof errors.JOSEAlgNotAllowed)
    return 'signing algorithm not allowed'
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return 'signature verification failed'
  if (error instanceof errors.JWTClaimValidationFailed) return 'invalid claims'
  return 'malformed token'
}

type Problem = { loc: string[]; msg: string }

function validationError(problems: Problem[]): Response {
  return jsonResponse(422, { error: 'validation_error', detail: problems })
}

function validateTodo(
  fields: Record<string, unknown>,
  { partial }: { partial: boolean },
): Problem[] {
  const problems: Problem[] = []
  const { title, done } = fields
  if (title === undefined) {
    if (!partial)
      problems.push({ loc: ['body', 'title'], msg: 'title is required' })
  } else if (typeof title !== 'string' || title.trim() === '')
    problems.push({
      loc: ['body', 'title'],
      msg: 'title must be a non-empty string',
    })
  else if (title.trim().length > 200)
    problems.push({
      loc: ['body', 'title'],
      msg: 'title must be at most 200 characters',
    })
  if (done !== undefined && typeof done !== 'boolean')
    problems.push({ loc: ['body', 'done'], msg: 'done must be a boolean' })
  if (partial && title === undefined && done === undefined)
    problems.push({ loc: ['body'], msg: 'send at least one of title, done' })
  return problems
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
function parseFault(fields: Record<string, unknown>): Fault | string {
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
