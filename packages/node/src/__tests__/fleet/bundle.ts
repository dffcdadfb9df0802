// The worker and its storage module bundled once into plain CommonJS: 32 processes that
// each transpile TypeScript at start-up (tsx) take a minute on a busy 2-core machine.
import { rmSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
      // One file each: the worker, and the storage module it imports at start.
      const pack = async (entry: string, name: string) => {
        const outfile = join(outdir, name)
        await build({
          entryPoints: [entry],
          bundle: true,
          platform: 'node',
          format: 'cjs',
          target: 'node20',
          outfile,
          conditions: ['@tokenflight/source'],
          logLevel: 'error',
        })
        return outfile
      }
      const [workerFile, storageFile] = await Promise.all([
        pack(worker, 'worker.cjs'),
        storageModule && pack(storageModule, 'storage.cjs'),
      ])
      return {
        worker: workerFile,
        ...(storageFile && { storage: storageFile }),
      }
    })()
    built.set(key, result)
  }
  return result
}
