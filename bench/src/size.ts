import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export type SizeRow = {
  name: string
  /** min+gz bytes, as size-limit counts them. */
  bytes: number
  /** Budget in bytes; undefined for the comparison rows. */
  limit: number | undefined
  passed: boolean | undefined
}

type SizeLimitJson = Array<{
  name: string
  size: number
  sizeLimit?: number
  passed?: boolean
}>

async function sizeLimit(args: string[]): Promise<SizeRow[]> {
  const manifest = createRequire(join(root, 'package.json')).resolve(
    'size-limit/package.json',
  )
  const bin = join(dirname(manifest), 'bin.js')
  // size-limit exits non-zero when a budget is blown; its JSON is still on stdout.
  const { stdout } = await run(process.execPath, [bin, '--json', ...args], {
    cwd: root,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }))
  const parsed = JSON.parse(stdout) as SizeLimitJson
  return parsed.map((r) => ({
    name: r.name,
    bytes: r.size,
    limit: r.sizeLimit,
    passed: r.sizeLimit === undefined ? undefined : r.size <= r.sizeLimit,
  }))
}

const builtFiles = ['core', 'axios', 'react'].map((p) =>
  join(root, 'packages', p, 'dist', 'index.js'),
)

/**
 * The budgets of `/.size-limit.json` (what CI checks) and, measured the
 * same way, axios-auth-refresh. Builds the packages first when dist is missing.
 */
export async function sizes(log: (line: string) => void): Promise<SizeRow[]> {
  if (!builtFiles.every((f) => existsSync(f))) {
    log('packages/*/dist missing: running pnpm build first')
    await run('pnpm', ['build'], { cwd: root })
  }
  return [
    ...(await sizeLimit([])),
    ...(await sizeLimit([
      '--config',
      join(root, 'bench', 'size-limit.compare.json'),
    ])),
  ]
}
