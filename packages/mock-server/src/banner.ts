import { DEFAULT_USER, type Settings } from './options.ts'
import { ADMIN_PREFIX, describeRoute, ROUTES } from './routes.ts'
import type { RequestLogEntry } from './startAuthServer.ts'

// What the CLI prints: the banner (from the route table) and one line per request.

/** `900` → `15 min`; whole units only, else seconds. */
export function duration(seconds: number): string {
  for (const [size, unit] of [
    [86_400, 'd'],
    [3_600, 'h'],
    [60, 'min'],
  ] as const)
    if (seconds >= size && seconds % size === 0)
      return `${seconds / size} ${unit}`
  return `${seconds} s`
}

function describeReuse(reuse: Settings['reuse']): string {
  if (reuse.kind === 'interval')
    return `the immediate parent may be replayed for ${duration(reuse.intervalMs / 1000)}`
  if (reuse.kind === 'parent-of-active')
    return 'parent-of-active (a replayed parent gets its unused child back)'
  return 'strict (any replay revokes the family)'
}

export function banner(url: string, settings: Settings): string {
  const width = Math.max(...ROUTES.map((r) => describeRoute(r).length))
  const list = (admin: boolean) =>
    ROUTES.filter((r) => r.path.startsWith(ADMIN_PREFIX) === admin).map(
      (r) => `  ${describeRoute(r).padEnd(width)}  ${r.summary}`,
    )
  return [
    `tokenflight mock auth server listening on ${url}`,
    `demo user: ${DEFAULT_USER.username} / ${DEFAULT_USER.password}`,
    `access tokens live ${duration(settings.accessTtlMs / 1000)}; ` +
      `refresh families ${duration(settings.refreshTtlMs / 1000)} (absolute)`,
    `refresh token reuse: ${describeReuse(settings.reuse)}`,
    'routes:',
    ...list(false),
    'admin (test hooks, unauthenticated):',
    ...list(true),
    'one line per request follows (--quiet: none); Ctrl-C stops',
  ].join('\n')
}

/** `12:00:01 POST /refresh 200 3 ms`; `---` when no answer was sent. */
export function logLine(entry: RequestLogEntry, at: Date): string {
  const time = at.toTimeString().slice(0, 8)
  const status = entry.status === null ? '---' : String(entry.status)
  return `${time} ${entry.method} ${entry.path} ${status} ${Math.round(entry.ms)} ms`
}
