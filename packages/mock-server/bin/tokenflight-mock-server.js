#!/usr/bin/env node
// The `tokenflight-mock-server` command. It lives outside dist/ so that the file exists before a
// build: pnpm links workspace bins at install time, and a missing target prints a warning per
// package that depends on this one.
import { existsSync } from 'node:fs'

const cli = new URL('../dist/cli.js', import.meta.url)
if (!existsSync(cli)) {
  console.error(
    'tokenflight-mock-server: dist/cli.js is missing. In the tokenflight repository, run `pnpm build` first, or `pnpm demo:server` (no build needed).',
  )
  process.exit(1)
}
await import(cli.href)
