import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { login, me } from './helpers.ts'

const tsx = fileURLToPath(
  new URL('../../../../node_modules/.bin/tsx', import.meta.url),
)
const cli = fileURLToPath(new URL('../cli.ts', import.meta.url))

function run(args: string[]): {
  child: ChildProcess
  output: () => string
  url: Promise<string>
} {
  const child = spawn(tsx, ['--conditions=@tokenflight/source', cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      // Wait for the whole banner: stdout may arrive in several chunks.
      const match = /listening on (http:\/\/\S+)[\s\S]*\nadmin: .*\n/.exec(
        output,
      )
      if (match) resolve(match[1]!)
    })
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('exit', () => reject(new Error(`cli exited early:\n${output}`)))
  })
  return { child, output: () => output, url }
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })

describe('cli', { timeout: 20_000 }, () => {
  let child: ChildProcess | undefined
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL')
    child = undefined
  })

  it('prints its URL and the demo user, serves, and stops on SIGTERM', async () => {
    const started = run(['--port', '0', '--access-ttl', '5'])
    child = started.child
    const url = await started.url
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(started.output()).toContain('demo user: demo / demo-password')
    const tokens = await login(url)
    expect(tokens.expires_in).toBe(5)
    expect((await me(url, tokens.access_token)).status).toBe(200)
    child.kill('SIGTERM')
    expect(await exited(child)).toBe(0)
  })

  it('rejects bad options with a usage message', async () => {
    const started = run(['--port', 'nope'])
    child = started.child
    expect(await exited(child)).toBe(2)
    expect(started.output()).toContain('--port must be an integer')
    expect(started.output()).toContain('Usage:')
    await expect(started.url).rejects.toThrow(/exited early/)
  })
})
