// The README's CLI token cache, run against the mock server: several runs of the CLI at once
// share one token file and one refresh. Keep the two in step.
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSession, oauth2Client } from '@tokenflight/core'
import {
  DEFAULT_USER,
  authHandlers,
  createAuthServer,
} from '@tokenflight/mock-server'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest'
import { fileStorage } from '../index'

const server = createAuthServer()
const msw = setupServer(
  ...authHandlers(server, { baseUrl: 'https://api.example.com' }),
)
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
afterAll(() => msw.close())

let home: string
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'tokenflight-readme-'))
})
afterEach(async () => {
  await rm(home, { recursive: true, force: true })
})

it('runs the README CLI token cache: login once, then concurrent runs refresh once', async () => {
  const homedir = () => home
  const { username, password } = DEFAULT_USER
  // One run of the CLI: a fresh session on the shared file.
  const cli = () => {
    // --- packages/node/README.md, "A CLI token cache" ---
    const session = createSession({
      ...oauth2Client({ baseUrl: 'https://api.example.com' }),
      storage: fileStorage(join(homedir(), '.config', 'mycli', 'tokens.json')),
    })
    // --- end of the snippet ---
    return session
  }

  await cli().login({ username, password })
  const file = join(home, '.config', 'mycli', 'tokens.json')
  if (process.platform !== 'win32')
    expect((await stat(file)).mode & 0o777).toBe(0o600)

  const runs = Array.from({ length: 5 }, cli)
  const tokens = await Promise.all(runs.map((run) => run.getAccessToken()))
  expect(new Set(tokens).size).toBe(1)
  // The token went stale at the server: every run needs a new one at once.
  server.expireAccessTokens()
  const refreshed = await Promise.all(runs.map((run) => run.refresh()))
  expect(new Set(refreshed.map((t) => t.accessToken)).size).toBe(1)
  expect(server.stats).toMatchObject({ refreshes: 1, reuseDetections: 0 })

  // A logout in one run signs the others out.
  await runs[0]!.logout()
  expect(await cli().getAccessToken()).toBeNull()
})
