// Runs the Node demo as a child process, the way `pnpm demo:node` does.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { createAuthServer } from '@tokenflight/mock-server'
import { startAuthServer } from '@tokenflight/mock-server/node'
import { describe, expect, it } from 'vitest'

const demoDir = fileURLToPath(new URL('..', import.meta.url))
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli')

type Run = { code: number | null; stdout: string; stderr: string }

function runDemo(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [tsxCli, '--conditions=@tokenflight/source', 'node/main.ts', ...args],
      { cwd: demoDir, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    child.stdout
      .setEncoding('utf8')
      .on('data', (chunk: string) => (stdout += chunk))
    child.stderr
      .setEncoding('utf8')
      .on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The value printed after a summary label, e.g. `served   300` → 300. */
function summary(stdout: string, label: string): number {
  const match = new RegExp(`^\\s+${label}\\s+(\\d+)`, 'm').exec(stdout)
  if (!match?.[1]) throw new Error(`no "${label}" line in:\n${stdout}`)
  return Number(match[1])
}

const lines = (text: string) =>
  text.split('\n').filter((line) => line.trim() !== '')

describe('pnpm demo:node', () => {
  it('runs 3 expiry cycles of 100 requests against an in-process server: 300 served, 3 refreshes', async () => {
    const run = await runDemo()
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(summary(run.stdout, 'requests')).toBe(300)
    expect(summary(run.stdout, 'served')).toBe(300)
    expect(summary(run.stdout, 'refreshes')).toBe(3)
    // Each burst went out with the expired token: every request got a 401 once.
    expect(summary(run.stdout, '401s seen by server')).toBe(300)
    expect(
      run.stdout.match(/→ 100 served, 100 × 401, 1 refresh /g),
    ).toHaveLength(3)
    // The server expires the tokens: nothing waits for the clock, so a busy machine cannot
    // make a refreshed token run out before its retries land.
    expect(
      run.stdout.match(/access token expired on the server/g),
    ).toHaveLength(3)
    expect(run.stdout).not.toMatch(/waiting|warning/)
  })

  it('with --api, uses that server and expires its tokens through its admin route', async () => {
    const server = createAuthServer()
    const running = await startAuthServer(server, { port: 0 })
    try {
      const run = await runDemo('--api', running.url)
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      expect(run.stdout).toContain(
        `using the mock auth server at ${running.url}`,
      )
      expect(
        run.stdout.match(/access token expired on the server/g),
      ).toHaveLength(3)
      expect(run.stdout).not.toContain('warning')
      expect(summary(run.stdout, 'served')).toBe(300)
      expect(summary(run.stdout, 'refreshes')).toBe(3)
      expect(server.stats).toMatchObject({
        logins: 1,
        refreshes: 3,
        failedRefreshes: 0,
        reuseDetections: 0,
        unauthorized: 300,
        served: 300,
      })
    } finally {
      await running.close()
    }
  })

  it('with --api, warns in one line when the server issues tokens too short-lived for the demo', async () => {
    const server = createAuthServer({ accessTokenTtlSec: 5 })
    const running = await startAuthServer(server, { port: 0 })
    try {
      const run = await runDemo('--api', running.url)
      expect(run.stdout).toContain(
        "warning: this server's tokens live under 10 s",
      )
    } finally {
      await running.close()
    }
  })

  it('exits 1 with one line and no stack trace when the API is unreachable', async () => {
    const run = await runDemo('--api', 'http://127.0.0.1:1')
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(lines(run.stderr)).toEqual([
      expect.stringMatching(
        /^tokenflight demo: cannot reach the API at http:\/\/127\.0\.0\.1:1 /,
      ),
    ])
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })

  it('exits 1 with one line and no stack trace on wrong credentials', async () => {
    const run = await runDemo('--user', 'x', '--password', 'y')
    expect(run.code).toBe(1)
    expect(lines(run.stderr)).toEqual([
      'tokenflight demo: sign-in refused for "x": wrong username or password (400 invalid_grant)',
    ])
    expect(run.stdout).not.toMatch(/\n\s+at /)
  })
})
