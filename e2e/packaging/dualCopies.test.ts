// One process, two copies of core: the ESM build (an app's `import`) and the CJS build (a
// dependency's `require`). Their classes are different objects; `instanceof` must still hold.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'tsup'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type * as core from '@tokenflight/core'

type Core = typeof core

const coreDir = fileURLToPath(new URL('../../packages/core', import.meta.url))
let root: string
let esm: Core
let cjs: Core

beforeAll(async () => {
  // Built from src with core's own format settings, so the test always sees the current code
  // (no dependency on a previous `pnpm build`). Under node_modules: vitest leaves it to Node.
  root = mkdtempSync(join(tmpdir(), 'tokenflight-dual-'))
  const outDir = join(root, 'node_modules', 'tokenflight-core-copy')
  await build({
    config: false,
    entry: [join(coreDir, 'src/index.ts')],
    format: ['esm', 'cjs'],
    target: 'es2022',
    outDir,
    dts: false,
    silent: true,
  })
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n')
  esm = (await import(pathToFileURL(join(outDir, 'index.js')).href)) as Core
  cjs = createRequire(join(root, 'x.js'))(join(outDir, 'index.cjs')) as Core
}, 60_000)

afterAll(() => rmSync(root, { recursive: true, force: true }))

const make = (core: Core) => ({
  TokenflightError: new core.TokenflightError('base'),
  RefreshError: new core.RefreshError('refresh', { terminal: true }),
  RefreshTimeoutError: new core.RefreshTimeoutError(10),
  InvalidTokenResponseError: new core.InvalidTokenResponseError('body'),
  SessionExpiredError: new core.SessionExpiredError('gone'),
  StorageError: new core.StorageError('storage'),
  StorageConflictError: new core.StorageConflictError('conflict'),
  OAuth2HttpError: new core.OAuth2HttpError('POST /token', 400, {}),
  UnsafeRedirectError: new core.UnsafeRedirectError('X-Access-Token'),
})
type Name = keyof ReturnType<typeof make>

// Which classes each error is an instance of, by the class hierarchy.
const ancestors: Record<Name, Name[]> = {
  TokenflightError: ['TokenflightError'],
  RefreshError: ['RefreshError', 'TokenflightError'],
  RefreshTimeoutError: [
    'RefreshTimeoutError',
    'RefreshError',
    'TokenflightError',
  ],
  InvalidTokenResponseError: ['InvalidTokenResponseError', 'TokenflightError'],
  SessionExpiredError: ['SessionExpiredError', 'TokenflightError'],
  StorageError: ['StorageError', 'TokenflightError'],
  StorageConflictError: [
    'StorageConflictError',
    'StorageError',
    'TokenflightError',
  ],
  OAuth2HttpError: ['OAuth2HttpError', 'TokenflightError'],
  UnsafeRedirectError: ['UnsafeRedirectError', 'TokenflightError'],
}
const names = Object.keys(ancestors) as Name[]

describe('errors across the ESM and CJS copies of core', () => {
  it('are different classes (the situation this guards against)', () => {
    expect(esm.RefreshError).not.toBe(cjs.RefreshError)
  })

  for (const [from, to] of [
    ['cjs', 'esm'],
    ['esm', 'cjs'],
  ] as const) {
    it(`instanceof holds for a ${from} error checked against the ${to} classes, by the class hierarchy`, () => {
      const made = make(from === 'cjs' ? cjs : esm)
      const classes = to === 'cjs' ? cjs : esm
      for (const error of names) {
        for (const cls of names) {
          expect([error, cls, made[error] instanceof classes[cls]]).toEqual([
            error,
            cls,
            ancestors[error].includes(cls),
          ])
        }
        expect(made[error] instanceof Error).toBe(true)
        expect(classes.isTokenflightError(made[error])).toBe(true)
      }
    })
  }

  it('a session from the CJS copy rejects with what the ESM copy calls a RefreshError', async () => {
    const session = cjs.createSession({
      refresh: async () => {
        throw Object.assign(new Error('rejected'), { status: 400 })
      },
    })
    await session.setTokens({ accessToken: 'a', refreshToken: 'r' })
    const error: unknown = await session.refresh().catch((e: unknown) => e)
    expect(error instanceof esm.RefreshError).toBe(true)
    expect(error instanceof esm.RefreshTimeoutError).toBe(false)
    if (!(error instanceof esm.RefreshError)) return
    expect(error.terminal).toBe(true)
  })

  it('plain errors, look-alikes and non-objects are not tokenflight errors', () => {
    const lookAlike = Object.assign(new Error('x'), { name: 'RefreshError' })
    for (const value of [lookAlike, null, undefined, 'RefreshError', {}]) {
      expect(value instanceof esm.RefreshError).toBe(false)
      expect(value instanceof cjs.TokenflightError).toBe(false)
    }
  })

  it('a subclass an app declares is checked the ordinary way', () => {
    class AppError extends esm.RefreshError {}
    expect(
      new AppError('x', { terminal: true }) instanceof cjs.RefreshError,
    ).toBe(true)
    expect(
      new cjs.RefreshError('x', { terminal: true }) instanceof AppError,
    ).toBe(false)
  })
})
