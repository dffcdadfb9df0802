import { execFile } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
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

const measured = ['core', 'axios', 'fetch', 'react']

function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === '__tests__') continue
    const path = join(dir, entry.name)
    newest = Math.max(
      newest,
      entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs,
    )
  }
  return newest
}

/** dist/index.js is missing or older than a file of the package's src. */
function stale(pkg: string): boolean {
  const built = join(root, 'packages', pkg, 'dist', 'index.js')
  return (
    !existsSync(built) ||
    statSync(built).mtimeMs < newestSource(join(root, 'packages', pkg, 'src'))
  )
}

/**
 * The budgets of `/.size-limit.json` (what CI checks) and, measured the
 * same way, what a typical app imports and axios-auth-refresh
 * (`bench/size-limit.compare.json`). Builds first when dist is missing or stale.
 */
export async function sizes(log: (line: string) => void): Promise<SizeRow[]> {
  const toBuild = measured.filter(stale)
  if (toBuild.length) {
    log(
      `dist missing or older than src in ${toBuild.join(', ')}: building them`,
    )
    const filters = toBuild.flatMap((p) => ['--filter', `@tokenflight/${p}`])
    await run('pnpm', [...filters, 'build'], { cwd: root })
  }
  return [
    ...(await sizeLimit([])),
    ...(await sizeLimit([
      '--config',
      join(root, 'bench', 'size-limit.compare.json'),
    ])),
  ]
}
