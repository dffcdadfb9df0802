import { randomToken } from './accessTokens.ts'
import { record } from './audit.ts'
import type { Context } from './context.ts'
import type { QueuedFault, ServerState, StoredFault } from './state.ts'
import type { Endpoint, Fault } from './types.ts'

/**
 * The promises of `gate` faults. The state keeps a gate's id only (a promise cannot be
 * stored or sent to another tab); a holder that takes a gate it does not hold waits for
 * word that it opened (`opened`, called by a shared store when another tab says so).
 */
export class Gates {
  #promises = new Map<string, Promise<unknown>>()
  #opened = new Set<string>()
  #waiting = new Map<string, Array<() => void>>()
  /** Called when a gate held here opens; a shared store tells the other tabs. */
  onOpen: ((id: string) => void) | undefined

  add(until: Promise<unknown>): string {
    const id = randomToken(9)
    this.#promises.set(id, until)
    const open = () => {
      this.opened(id)
      this.onOpen?.(id)
    }
    until.then(open, open)
    return id
  }

  /** Marks a gate open, here and for whoever waits for it. */
  opened(id: string): void {
    this.#opened.add(id)
    for (const resolve of this.#waiting.get(id) ?? []) resolve()
    this.#waiting.delete(id)
  }

  wait(id: string): Promise<unknown> {
    const held = this.#promises.get(id)
    if (held) return held
    if (this.#opened.has(id)) return Promise.resolve()
    return new Promise<void>((resolve) => {
      this.#waiting.set(id, [...(this.#waiting.get(id) ?? []), resolve])
    })
  }

  clear(): void {
    this.#promises.clear()
    this.#opened.clear()
    this.#waiting.clear()
  }
}

export function storedFault(fault: Fault, gates: Gates): StoredFault {
  if (fault.kind !== 'gate') return fault
  const { until, ...rest } = fault
  return { ...rest, gate: gates.add(until) }
}

/** The next fault queued for `endpoint`, counted and audited; undefined when none. */
export function takeFault(
  ctx: Context,
  state: ServerState,
  endpoint: Exclude<Endpoint, 'any'>,
): StoredFault | undefined {
  const index = state.faults.findIndex(
    (q) => q.fault.endpoint === endpoint || q.fault.endpoint === 'any',
  )
  if (index === -1) return undefined
  const queued: QueuedFault = state.faults[index]!
  queued.remaining--
  if (queued.remaining === 0) state.faults.splice(index, 1)
  state.stats.faults++
  record(ctx, state, {
    event: 'fault',
    outcome: `${queued.fault.kind} on ${endpoint}`,
  })
  return queued.fault
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

/** Answers `request` the way `fault` says; `run` is the route itself. */
export async function applyFault(
  ctx: Context,
  {
    fault,
    endpoint,
    request,
    run,
    released,
    gates,
  }: {
    fault: StoredFault
    endpoint: Exclude<Endpoint, 'any'>
    request: Request
    run: () => Promise<Response>
    released: Promise<void>
    gates: Gates
  },
): Promise<Response> {
  const held = async (until: Promise<unknown>): Promise<Response> => {
    const outcome = await Promise.race([
      until.then(
        () => 'ready' as const,
        () => 'ready' as const,
      ),
      interrupted(request.signal, released),
    ])
    if (outcome === 'ready') return run()
    // Recorded so a test can tell the route never ran.
    await ctx.store.run((state) =>
      record(ctx, state, {
        event: 'fault',
        outcome: `${fault.kind} on ${endpoint}: ${outcome}`,
      }),
    )
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
      return held(gates.wait(fault.gate))
    case 'hang':
      return held(new Promise(() => {}))
    case 'network-error':
      return Response.error()
    case 'status':
      return statusFault(fault.status, fault.body)
    case 'malformed':
      return new Response(fault.body ?? 'not json', {
        status: 200,
        headers: {
          'Content-Type': 'application/json',
          'Cache-Control': 'no-store',
        },
      })
    case 'drop-after-rotate':
      await run()
      return Response.error()
  }
}

function statusFault(status: number, given: unknown): Response {
  const empty = [204, 205, 304].includes(status)
  const body =
    given === undefined
      ? {
          error: 'injected_fault',
          error_description: `fault injected by the test: HTTP ${status}`,
        }
      : given
  const headers: Record<string, string> = {}
  if (!empty)
    headers['Content-Type'] =
      typeof body === 'string'
        ? 'text/plain; charset=utf-8'
        : 'application/json'
  if (status === 401)
    headers['WWW-Authenticate'] =
      'Bearer error="invalid_token", error_description="injected fault"'
  return new Response(
    empty ? null : typeof body === 'string' ? body : JSON.stringify(body),
    { status, headers },
  )
}
