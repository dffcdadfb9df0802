import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const packageDir = fileURLToPath(new URL('../..', import.meta.url))
const blocker = fileURLToPath(
  new URL('fixtures/withoutMsw.mjs', import.meta.url),
)

/** Runs `script` (ESM) in a Node process where loading msw throws. */
function runWithoutMsw(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '--conditions=@tokenflight/source',
        '--import',
        'tsx',
        '--import',
        blocker,
        '--input-type=module',
        '-e',
        script,
      ],
      { cwd: packageDir, timeout: 20_000 },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`${error.message}\n${stderr}`))
          : resolve(stdout),
    )
  })
}

describe('the node:http server without msw', { timeout: 30_000 }, () => {
  it('@tokenflight/mock-server/node serves a login without ever loading msw', async () => {
    const output = await runWithoutMsw(`
      const { createAuthServer, startAuthServer } = await import('@tokenflight/mock-server/node')
      const running = await startAuthServer(createAuthServer())
      const response = await fetch(running.url + '/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
      })
      console.log('status', response.status)
      await running.close()
    `)
    expect(output).toContain('status 200')
  })

  it('the CLI needs no msw either', async () => {
    const output = await runWithoutMsw(
      `process.argv = [process.execPath, 'cli', '--help']; await import('./src/cli.ts')`,
    )
    expect(output).toContain('Usage: tokenflight-mock-server')
  })

  it('(the guard works: the root entry, with the MSW handlers, is refused)', async () => {
    await expect(
      runWithoutMsw(`await import('@tokenflight/mock-server')`),
    ).rejects.toThrow(/msw was loaded/)
  })
})
