// A real Redis for the tests: Debian's redis-server on a free 127.0.0.1 port, persistence
// off, in a temp folder, stopped in teardown.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type RedisServer = {
  url: string
  port: number
  /** Stops the server (SIGTERM, no save): clients lose their connection. */
  stop(): Promise<void>
  /** Starts it again on the same port, empty (persistence is off). */
  start(): Promise<void>
  /** Stops it for good and removes its folder. Idempotent. */
  close(): Promise<void>
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })

export async function startRedisServer(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tokenflight-redis-'))
  let port = 0
  let child: ChildProcess | undefined

  const launch = (p: number) =>
    new Promise<ChildProcess>((resolve, reject) => {
      const proc = spawn(
        'redis-server',
        [
          '--port',
          String(p),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
          '--daemonize',
          'no',
          '--loglevel',
          'notice',
        ],
        { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
      )
      let output = ''
      const timer = setTimeout(() => {
        proc.kill('SIGKILL')
        reject(new Error(`redis-server did not start:\n${output}`))
      }, 10_000)
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          proc.stdout!.off('data', onData)
          proc.stdout!.resume()
          resolve(proc)
        }
      }
      proc.stdout!.on('data', onData)
      proc.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
      proc.once('error', (e) => {
        clearTimeout(timer)
        reject(e)
      })
      proc.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited (${code}):\n${output}`))
      })
    })

  const stop = async () => {
    const proc = child
    child = undefined
    if (!proc || proc.exitCode !== null) return
    const exited = new Promise((r) => proc.once('exit', r))
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }

  // A port that was free a moment ago may be taken meanwhile: try a few.
  for (let attempt = 0; !child; attempt++) {
    port = await freePort()
    try {
      child = await launch(port)
    } catch (e) {
      if (attempt >= 4) {
        await rm(dir, { recursive: true, force: true })
        throw e
      }
    }
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    async start() {
      if (!child) child = await launch(port)
    },
    async close() {
      await stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
