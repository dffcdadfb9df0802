// The worker and its storage module bundled once into plain CommonJS: 32 processes that
// each transpile TypeScript at start-up (tsx) take a minute on a busy 2-core machine.
import { rmSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const worker = fileURLToPath(new URL('./worker.ts', import.meta.url))
const built = new Map<string, Promise<{ worker: string; storage?: string }>>()

/** Paths of the bundled worker and storage module (built on first use, removed at exit). */
export function bundle(storageModule?: string) {
  const key = storageModule ?? ''
  let result = built.get(key)
  if (!result) {
    result = (async () => {
      const outdir = await mkdtemp(join(tmpdir(), 'tokenflight-fleet-'))
      process.once('exit', () =>
        rmSync(outdir, { recursive: true, force: true }),
      )
      await build({
        entryPoints: storageModule ? [worker, storageModule] : [worker],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        outdir,
        outExtension: { '.js': '.cjs' },
        conditions: ['@tokenflight/source'],
        logLevel: 'error',
      })
      const out = (path: string) =>
        join(outdir, basename(path).replace(/\.ts$/, '.cjs'))
      return {
        worker: out(worker),
        ...(storageModule && { storage: out(storageModule) }),
      }
    })()
    built.set(key, result)
  }
  return result
}
