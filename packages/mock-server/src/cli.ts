#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { createAuthServer, DEFAULT_USER } from './authServer.ts'
import {
  startAuthServer,
  type StartAuthServerOptions,
} from './startAuthServer.ts'
import type { AuthServerOptions } from './types.ts'

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
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0)
    fail(`--${name} must be a number >= 0`)
  return parsed
}

function parseCli(): {
  server: AuthServerOptions
  listen: StartAuthServerOptions
} {
  const argv = process.argv.slice(2)
  let values
  try {
    values = parseArgs({
      // `pnpm start -- --port 1` forwards the `--` separator too.
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
  if (values.help) {
    console.log(usage)
    process.exit(0)
  }
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    fail('--port must be an integer 0..65535')
  const accessTokenTtlSec = seconds('access-ttl', values['access-ttl'])
  const refreshTokenTtlSec = seconds('refresh-ttl', values['refresh-ttl'])
  const reuseIntervalSec = seconds('reuse-interval', values['reuse-interval'])
  const cors = values.cors
  return {
    server: {
      ...(accessTokenTtlSec === undefined ? {} : { accessTokenTtlSec }),
      ...(refreshTokenTtlSec === undefined ? {} : { refreshTokenTtlSec }),
      ...(reuseIntervalSec === undefined ? {} : { reuseIntervalSec }),
    },
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
  }
}

async function main(): Promise<void> {
  const options = parseCli()
  const running = await startAuthServer(
    createAuthServer(options.server),
    options.listen,
  )
  console.log(`tokenflight mock auth server listening on ${running.url}`)
  console.log(`demo user: ${DEFAULT_USER.username} / ${DEFAULT_USER.password}`)
  console.log(
    'routes: POST /token /refresh /logout /revoke · GET /me · GET|POST|PATCH|DELETE /todos',
  )
  console.log(
    'admin:  POST /__admin/expire-access-tokens /__admin/revoke-sessions /__admin/reset · GET /__admin/stats',
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
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
