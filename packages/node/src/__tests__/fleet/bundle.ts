// The worker and its storage module bundled into plain CommonJS: 32 processes that each
// transpile TypeScript at start-up (tsx) take a minute on a busy 2-core machine.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const worker = fileURLToPath(new URL('./worker.ts', import.meta.url))

export type Bundle = {
  worker: string
  storage?: string
  /** Removes the bundle's temp folder. */
  remove(): Promise<void>
}

/** Bundles the worker (and the storage module it imports at start) into a temp folder. */
export async function bundle(storageModule?: string): Promise<Bundle> {
  const outdir = await mkdtemp(join(tmpdir(), 'tokenflight-fleet-'))
  const remove = () => rm(outdir, { recursive: true, force: true })
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
      // Less to parse in each process; class and function names kept for error reports.
      minify: true,
      keepNames: true,
      logLevel: 'error',
    })
    return outfile
  }
  try {
    const [workerFile, storageFile] = await Promise.all([
      pack(worker, 'worker.cjs'),
      storageModule && pack(storageModule, 'storage.cjs'),
    ])
    return {
      worker: workerFile,
      ...(storageFile && { storage: storageFile }),
      remove,
    }
  } catch (e) {
    await remove()
    throw e
  }
}
