// A README code block preceded by `<!-- snippet: path -->` is that file of the repository,
// verbatim: the file runs as a test in its own vitest project, so the block runs as written.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

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
