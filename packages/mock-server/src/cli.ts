#!/usr/bin/env node
import { createAuthServer } from './authServer.ts'
import { banner, logLine } from './banner.ts'
import { parseCli, usage } from './cliOptions.ts'
import { internals } from './internals.ts'
import { startAuthServer } from './startAuthServer.ts'

function fail(message: string): never {
  console.error(`${message}\n\n${usage}`)
  process.exit(2)
}

async function main(): Promise<void> {
  const options = parseCli(process.argv.slice(2))
  if (options === 'help') {
    console.log(usage)
    process.exit(0)
  }
  if ('error' in options) fail(options.error)
  let server
  try {
    server = createAuthServer(options.server)
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error))
  }
  const { port, host } = options.listen
  const running = await startAuthServer(server, {
    ...options.listen,
    ...(options.quiet
      ? {}
      : { onRequest: (entry) => console.log(logLine(entry, new Date())) }),
  }).catch((error: unknown) => {
    if ((error as { code?: unknown }).code !== 'EADDRINUSE') throw error
    console.error(
      `port ${port} on ${host} is already in use (another mock server?).\n` +
        `Pick another with --port <n>, or --port 0 for a free one.`,
    )
    process.exit(1)
  })
  console.log(banner(running.url, internals.get(server)!.ctx.settings))

  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    // After the terminal's `^C`.
    console.log(`${process.stdout.isTTY ? '\n' : ''}${signal}: stopping`)
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
