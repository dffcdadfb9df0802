// A Node-only project (no DOM lib, skipLibCheck off) compiles against core's published types,
// ESM (.d.ts) and CommonJS (.d.cts) alike.
import { execFile } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'tsup'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const coreDir = join(repo, 'packages/core')
const require = createRequire(import.meta.url)
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin/tsc')
const nodeTypes = dirname(require.resolve('@types/node/package.json'))

let project: string

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'tokenflight-node-types-'))
  const pkg = join(project, 'node_modules/@tokenflight/core')
  // Types built from src with core's own entry, as `pnpm build` makes them.
  await build({
    config: false,
    entry: [join(coreDir, 'src/index.ts')],
    format: ['esm', 'cjs'],
    target: 'es2022',
    outDir: join(pkg, 'dist'),
    dts: { only: true },
    tsconfig: join(coreDir, 'tsconfig.json'),
    silent: true,
  })
  copyFileSync(join(coreDir, 'package.json'), join(pkg, 'package.json'))
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: false,
        noEmit: true,
        // @types/node, as a Node project has it: the repository's copy.
        types: ['node'],
        typeRoots: [dirname(nodeTypes)],
      },
      include: ['*.ts', '*.cts'],
    }),
  )
  writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n')
  const usage = (imports: string) => `${imports}

const memory = new Map<string, string>()
const session = createSession({
  refresh: async ({ tokens, signal }) => {
    const response = await fetch('https://api.example/refresh', {
      method: 'POST',
      body: JSON.stringify({ refresh_token: tokens.refreshToken }),
      signal,
    })
    return response.json()
  },
  storage: webStorage({
    getItem: (key) => memory.get(key) ?? null,
    setItem: (key, value) => void memory.set(key, value),
    removeItem: (key) => void memory.delete(key),
  }),
})
const client = oauth2Client({ baseUrl: 'https://api.example' })
void client
session.on('refreshFailed', ({ error }) => {
  if (error instanceof RefreshError && error.terminal) process.exitCode = 1
})
export const token: Promise<string | null> = session.getAccessToken()
`
  writeFileSync(
    join(project, 'esm.ts'),
    usage(
      "import { createSession, oauth2Client, RefreshError, webStorage } from '@tokenflight/core'",
    ),
  )
  writeFileSync(
    join(project, 'cjs.cts'),
    usage(
      "import core = require('@tokenflight/core')\nconst { createSession, oauth2Client, RefreshError, webStorage } = core",
    ),
  )
}, 120_000)

afterAll(() => rmSync(project, { recursive: true, force: true }))

function compile(): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsc, '-p', join(project, 'tsconfig.json')],
      { cwd: project },
      (error, stdout, stderr) =>
        resolve({
          code: error ? ((error.code as number | undefined) ?? 1) : 0,
          output: stdout + stderr,
        }),
    )
  })
}

describe("core's published types in a Node-only project", () => {
  it('compile with lib ES2022, @types/node and skipLibCheck: false (no DOM lib needed)', async () => {
    const { code, output } = await compile()
    expect(output).toBe('')
    expect(code).toBe(0)
  })
})
