#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { createAuthServer, DEFAULT_USER } from './authServer.ts'
import { startAuthServer } from './startAuthServer.ts'

const usage = `Usage: tokenflight-mock-server [options]

  --port <n>            port to listen on (default 4010; 0 = a free port)
  --host <host>         interface to bind (default 127.0.0.1)
  --access-ttl <sec>    access token lifetime in seconds (default 900)
  --refresh-ttl <sec>   absolute refresh family lifetime in seconds (default 604800)
  --reuse-interval <s>  reuse interval for rotated refresh tokens (default 0)
  --cors <origins>      comma-separated allowed origins, or * (default: localhost / 127.0.0.1)
  -h, --help            show this help`

function fail(message: string): never {
  console.error(`${message}\n\n${usage}`)
  process.exit(2)
}

function seconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed < 0)
    fail(`--${name} must be a number >= 0`)
  return parsed
}

let parsed
try {
  const argv = process.argv.slice(2)
  // `pnpm start -- --port 1` forwards the `--` separator too.
  parsed = parseArgs({
    args: argv[0] === '--' ? argv.slice(1) : argv,
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      'access-ttl': { type: 'string' },
      'refresh-ttl': { type: 'string' },
      'reuse-interval': { type: 'string' },
      cors: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values
} catch (error) {
  fail(error instanceof Error ? error.message : String(error))
}
if (parsed.help) {
  console.log(usage)
  process.exit(0)
}
const port = Number(parsed.port)
if (!Number.isInteger(port) || port < 0 || port > 65_535)
  fail('--port must be 0..65535')

const accessTokenTtlSec = seconds('access-ttl', parsed['access-ttl'])
const refreshTokenTtlSec = seconds('refresh-ttl', parsed['refresh-ttl'])
const reuseIntervalSec = seconds('reuse-interval', parsed['reuse-interval'])
const server = createAuthServer({
  ...(accessTokenTtlSec === undefined ? {} : { accessTokenTtlSec }),
  ...(refreshTokenTtlSec === undefined ? {} : { refreshTokenTtlSec }),
  ...(reuseIntervalSec === undefined ? {} : { reuseIntervalSec }),
})
const cors = parsed.cors
const running = await startAuthServer(server, {
  port,
  host: parsed.host,
  ...(cors === undefined
    ? {}
    : {
        corsOrigins: cors === '*' ? '*' : cors.split(',').map((o) => o.trim()),
      }),
})

console.log(`tokenflight mock auth server listening on ${running.url}`)
console.log(`demo user: ${DEFAULT_USER.username} / ${DEFAULT_USER.password}`)
console.log(
  `routes: POST /token /refresh /logout /revoke · GET /me · /todos · admin: /__admin/{stats,reset,expire-access-tokens,revoke-sessions}`,
)

let stopping = false
const stop = (signal: string): void => {
  if (stopping) return
  stopping = true
  console.log(`\n${signal}: stopping`)
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGTERM', () => stop('SIGTERM'))
