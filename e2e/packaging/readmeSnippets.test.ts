// A README code block preceded by `<!-- snippet: path -->` is that file of the repository,
// verbatim: the file runs as a test in its own vitest project, so the block runs as written.
import { spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const readmes = [
  'README.md',
  ...readdirSync(join(repo, 'packages'))
    .map((dir) => `packages/${dir}/README.md`)
    .filter((path) => existsSync(join(repo, path))),
]

const marked = readmes.flatMap((readme) =>
  [
    ...readFileSync(join(repo, readme), 'utf8').matchAll(
      /<!-- snippet: (\S+) -->\n\n```\w+\n([\s\S]*?)```\n/g,
    ),
  ].map((m) => ({ readme, path: m[1] ?? '', block: m[2] ?? '' })),
)

describe('README snippets that are test files', () => {
  it('the mock-server guide has its two', () => {
    expect(
      marked
        .filter((s) => s.readme === 'packages/mock-server/README.md')
        .map((s) => s.path),
    ).toEqual([
      'packages/axios/src/__tests__/mockServerReadme.test.ts',
      'packages/react/src/__tests__/mockServerGuide.test.tsx',
    ])
  })

  for (const { readme, path, block } of marked) {
    it(`${readme} shows ${path} as it is (copy the file into the README after a change)`, () => {
      expect(path).toMatch(/\.test\.tsx?$/)
      expect(block).toBe(readFileSync(join(repo, path), 'utf8'))
    })
  }
})

// The READMEs of fetch, node and redis run their snippets in their own packages' tests (their
// dependencies, ky, openapi-fetch and redis, resolve there); examples importing them are left
// to those tests.
const elsewhere =
  /from '(@tokenflight\/(fetch|node|redis)|ky|openapi-fetch|redis)'/
const checked = readmes.filter(
  (readme) => !/packages\/(fetch|node|redis)\//.test(readme),
)

// Every other complete example (a block with `import` lines) compiles with the repository's
// strict settings. A first-line comment naming a file (`// session.ts`) writes the block under
// that name, so the examples that import each other (`./session`) compile together. Names the
// example leaves to the reader are declared in an invisible `<!-- snippet-context: … -->`.
const complete = checked.flatMap((readme) =>
  [
    ...readFileSync(join(repo, readme), 'utf8').matchAll(
      /(?:<!-- snippet-context: (.+?) -->\n\n)?(<!-- snippet: \S+ -->\n\n)?```(tsx?)\n([\s\S]*?)```\n/g,
    ),
  ]
    .filter(
      (m) =>
        !m[2] && /^import /m.test(m[4] ?? '') && !elsewhere.test(m[4] ?? ''),
    )
    .map((m, i) => {
      const code = m[4] ?? ''
      const named = /^\/\/ (\w+)\.tsx?\b/.exec(code)?.[1]
      return {
        readme,
        file: `${named ?? `example-${i + 1}`}.${m[3]}`,
        code: m[1] ? `${m[1]}\n${code}` : code,
      }
    }),
)

describe('README examples compile', () => {
  let dir: string

  beforeAll(() => {
    // Inside packages/react: its node_modules resolve every package the examples import.
    dir = mkdtempSync(join(repo, 'packages/react/.snippets-'))
    for (const { readme, file, code } of complete) {
      const sub = join(dir, readme.replace(/\W+/g, '_'))
      mkdirSync(sub, { recursive: true })
      writeFileSync(join(sub, file), code)
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../../tsconfig.base.json',
        compilerOptions: {
          types: ['node'],
          moduleDetection: 'force',
          allowImportingTsExtensions: true,
        },
        include: ['**/*.ts', '**/*.tsx'],
      }),
    )
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('there are examples in every package README', () => {
    expect(new Set(complete.map((c) => c.readme))).toEqual(
      new Set([
        'README.md',
        'packages/axios/README.md',
        'packages/core/README.md',
        'packages/mock-server/README.md',
        'packages/react/README.md',
      ]),
    )
  })

  it('tsc finds no error in any of them', () => {
    const tsc = join(
      dirname(
        createRequire(import.meta.url).resolve('typescript/package.json'),
      ),
      'bin/tsc',
    )
    const result = spawnSync(
      process.execPath,
      [tsc, '-p', join(dir, 'tsconfig.json')],
      { encoding: 'utf8' },
    )
    expect(result.stdout + result.stderr).toBe('')
    expect(result.status).toBe(0)
  }, 120_000)
})
