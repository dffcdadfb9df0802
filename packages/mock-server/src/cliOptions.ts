import { parseArgs } from 'node:util'
import type { StartAuthServerOptions } from './startAuthServer.ts'
import type { AuthServerOptions, ReusePolicy } from './types.ts'

export const DEFAULT_PORT = 4010

export const usage = `Usage: tokenflight-mock-server [options]

  --port <n>            port to listen on (default ${DEFAULT_PORT}; 0 = a free port)
  --host <host>         interface to bind (default 127.0.0.1)
  --access-ttl <sec>    access token lifetime in seconds (default 900)
  --refresh-ttl <sec>   absolute refresh family lifetime in seconds (default 604800)
  --reuse <policy>      strict (default), parent-of-active, or <sec>: a reuse interval
  --reuse-interval <s>  same as --reuse <s>
  --cors <origins>      comma-separated allowed origins, or * (default: localhost / 127.0.0.1)
  --quiet               no line per request
  -h, --help            show this help`

export type CliOptions = {
  server: AuthServerOptions
  listen: StartAuthServerOptions & { port: number }
  quiet: boolean
}

/** The options, `'help'`, or the message of what is wrong with them. */
export function parseCli(
  argv: string[],
): CliOptions | 'help' | { error: string } {
  let values
  try {
    values = parseArgs({
      // `pnpm start -- --port 1` forwards the `--` separator too.
      args: argv[0] === '--' ? argv.slice(1) : argv,
      options: {
        port: { type: 'string', default: String(DEFAULT_PORT) },
        host: { type: 'string', default: '127.0.0.1' },
        'access-ttl': { type: 'string' },
        'refresh-ttl': { type: 'string' },
        reuse: { type: 'string' },
        'reuse-interval': { type: 'string' },
        cors: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) }
  }
  if (values.help) return 'help'
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    return { error: '--port must be an integer 0..65535' }
  const server: AuthServerOptions = {}
  for (const [flag, key] of [
    ['access-ttl', 'accessTokenTtlSec'],
    ['refresh-ttl', 'refreshTokenTtlSec'],
  ] as const) {
    const value = values[flag]
    if (value === undefined) continue
    const seconds = parseSeconds(value)
    if (seconds === undefined)
      return { error: `--${flag} must be a number >= 0` }
    server[key] = seconds
  }
  if (values.reuse !== undefined && values['reuse-interval'] !== undefined)
    return { error: 'pass --reuse or --reuse-interval, not both' }
  const reuse = values.reuse ?? values['reuse-interval']
  if (reuse !== undefined) {
    const policy = parseReuse(reuse)
    if (policy === undefined)
      return {
        error: `--reuse must be strict, parent-of-active or a number of seconds >= 0`,
      }
    server.reuse = policy
  }
  const cors = values.cors
  return {
    server,
    listen: {
      port,
      host: values.host,
      ...(cors === undefined
        ? {}
        : {
            corsOrigins:
              cors === '*' ? '*' : cors.split(',').map((o) => o.trim()),
          }),
    },
    quiet: values.quiet,
  }
}

function parseSeconds(value: string): number | undefined {
  const parsed = Number(value)
  return value.trim() === '' || !Number.isFinite(parsed) || parsed < 0
    ? undefined
    : parsed
}

function parseReuse(value: string): ReusePolicy | undefined {
  if (value === 'strict' || value === 'parent-of-active') return value
  const seconds = parseSeconds(value)
  return seconds === undefined ? undefined : { intervalSec: seconds }
}
