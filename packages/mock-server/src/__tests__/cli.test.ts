import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { describeRoute, ROUTES } from '../routes.ts'
import { login, me } from './helpers.ts'

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url))
const tsx = `${repoRoot}node_modules/.bin/tsx`
const cli = fileURLToPath(new URL('../cli.ts', import.meta.url))

// The banner's last line: everything above it has been printed.
const BANNER_END = /Ctrl-C stops\n/

function watch(child: ChildProcess): {
  output: () => string
  url: Promise<string>
} {
  let output = ''
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match && BANNER_END.test(output)) resolve(match[1]!)
    })
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('exit', () => reject(new Error(`cli exited early:\n${output}`)))
    // e.g. ENOENT: `pnpm` is not on PATH.
    child.once('error', reject)
  })
  // A test that expects an early exit need not wait for the URL.
  url.catch(() => undefined)
  return { output: () => output, url }
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })

describe('cli', { timeout: 90_000 }, () => {
  let child: ChildProcess | undefined
  let blocker: Server | undefined
  afterEach(async () => {
    // tsx runs the server in a child process of its own, and `pnpm` adds more
    // levels: killing only the process we spawned would orphan the server.
    // Every child is the leader of a group of its own: kill the group.
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // The group is gone already.
      }
    }
    child = undefined
    await new Promise((resolve) =>
      blocker ? blocker.close(resolve) : resolve(undefined),
    )
    blocker = undefined
  })

  function run(args: string[]) {
    child = spawn(tsx, ['--conditions=@tokenflight/source', cli, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    return watch(child)
  }

  it('prints its URL, the demo user, the token lifetimes and every route; stops on SIGTERM', async () => {
    const started = run(['--port', '0', '--access-ttl', '5', '--reuse', '30'])
    const url = await started.url
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const output = started.output()
    expect(output).toContain('demo user: demo / demo-password')
    expect(output).toContain(
      'access tokens live 5 s; refresh families 7 d (absolute)',
    )
    expect(output).toContain(
      'refresh token reuse: the immediate parent may be replayed for 30 s',
    )
    // The banner is made from the route table: every route, the admin ones included.
    for (const route of ROUTES) expect(output).toContain(describeRoute(route))
    const tokens = await login(url)
    expect(tokens.expires_in).toBe(5)
    expect((await me(url, tokens.access_token)).status).toBe(200)
    child!.kill('SIGTERM')
    expect(await exited(child!)).toBe(0)
  })

  it('logs one line per request (method, path, status, ms) and never a token', async () => {
    const started = run(['--port', '0'])
    const url = await started.url
    const tokens = await login(url)
    await me(url, tokens.access_token)
    // A token in the query string (FastAPI style) must not reach the log either.
    await fetch(`${url}/refresh?refresh_token=${tokens.refresh_token}`, {
      method: 'POST',
    })
    await fetch(`${url}/nope`)
    await expect
      .poll(() =>
        started
          .output()
          .split('\n')
          .filter((l) => / ms$/.test(l)),
      )
      .toEqual([
        expect.stringMatching(/^\d\d:\d\d:\d\d POST \/token 200 \d+ ms$/),
        expect.stringMatching(/^\d\d:\d\d:\d\d GET \/me 200 \d+ ms$/),
        expect.stringMatching(/^\d\d:\d\d:\d\d POST \/refresh 400 \d+ ms$/),
        expect.stringMatching(/^\d\d:\d\d:\d\d GET \/nope 404 \d+ ms$/),
      ])
    for (const token of [tokens.access_token, tokens.refresh_token])
      expect(started.output()).not.toContain(token)
  })

  it('--quiet logs no requests', async () => {
    const started = run(['--port', '0', '--quiet'])
    const url = await started.url
    await login(url)
    child!.kill('SIGTERM')
    expect(await exited(child!)).toBe(0)
    expect(started.output()).not.toMatch(/POST \/token 200/)
  })

  it('rejects bad options with a usage message', async () => {
    const started = run(['--port', 'nope'])
    expect(await exited(child!)).toBe(2)
    expect(started.output()).toContain('--port must be an integer')
    expect(started.output()).toContain('Usage:')
    await expect(started.url).rejects.toThrow(/exited early/)
  })

  it('a port already taken: says so and suggests --port 0', async () => {
    blocker = createServer()
    await new Promise<void>((resolve) =>
      blocker!.listen(0, '127.0.0.1', resolve),
    )
    const { port } = blocker.address() as AddressInfo
    const started = run(['--port', String(port)])
    expect(await exited(child!)).toBe(1)
    expect(started.output()).toContain(
      `port ${port} on 127.0.0.1 is already in use`,
    )
    expect(started.output()).toContain('--port 0 for a free one')
    expect(started.output()).not.toMatch(/EADDRINUSE|\n\s+at /)
  })

  it('`pnpm demo:server`: Ctrl-C stops it cleanly, without package-manager noise', async () => {
    // Ctrl-C in a terminal sends SIGINT to the whole foreground process group: pnpm,
    // the shells it starts, and the server. A group of our own stands in for it.
    child = spawn('pnpm', ['demo:server', '--', '--port', '0', '--quiet'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    const started = watch(child)
    await login(await started.url)
    process.kill(-child.pid!, 'SIGINT')
    expect(await exited(child)).toBe(0)
    expect(started.output()).toContain('SIGINT: stopping')
    expect(started.output()).not.toMatch(/ELIFECYCLE|ERR_PNPM|Command failed/)
  })
})
