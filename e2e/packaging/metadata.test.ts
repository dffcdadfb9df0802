// What npm shows for each publishable package: license, links back to the repository, and a
// README whose links work on npmjs.com (where a relative link points nowhere).
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const REPOSITORY = 'https://github.com/tokenflight/tokenflight'
const packagesDir = fileURLToPath(new URL('../../packages', import.meta.url))

const publishable = readdirSync(packagesDir)
  .filter((dir) => existsSync(join(packagesDir, dir, 'package.json')))
  .map((dir) => ({
    dir,
    pkg: JSON.parse(
      readFileSync(join(packagesDir, dir, 'package.json'), 'utf8'),
    ) as Record<string, unknown>,
  }))
  .filter(({ pkg }) => pkg.private !== true)

// Relative links in READMEs whose packages were being written by others when this check came
// in: to be made absolute by their owners (then removed from here).
const knownRelativeLinks: Record<string, string[]> = {
  fetch: ['../core'],
  node: ['../../bench/RESULTS.md'],
  redis: ['../../bench/RESULTS.md'],
}

describe('publishable packages', () => {
  it('there are some', () => {
    expect(publishable.map((p) => p.dir)).toEqual(
      expect.arrayContaining(['core', 'axios', 'react', 'mock-server']),
    )
  })

  for (const { dir, pkg } of publishable) {
    it(`${dir}: MIT LICENSE file, repository, homepage and bugs (fix: node scripts/package-metadata.mjs)`, () => {
      expect(pkg.license).toBe('MIT')
      expect(readFileSync(join(packagesDir, dir, 'LICENSE'), 'utf8')).toMatch(
        /^MIT License\n\nCopyright \(c\) \d{4} tokenflight contributors\n/,
      )
      expect(pkg.repository).toEqual({
        type: 'git',
        url: `git+${REPOSITORY}.git`,
        directory: `packages/${dir}`,
      })
      expect(pkg.homepage).toBe(
        `${REPOSITORY}/tree/main/packages/${dir}#readme`,
      )
      expect(pkg.bugs).toEqual({ url: `${REPOSITORY}/issues` })
    })

    it(`${dir}: README links are absolute (they work on npm)`, () => {
      const known = knownRelativeLinks[dir] ?? []
      const readme = readFileSync(join(packagesDir, dir, 'README.md'), 'utf8')
      const targets = [...readme.matchAll(/\]\(([^)\s]+)\)|\bsrc="([^"]+)"/g)]
        .map((m) => m[1] ?? m[2] ?? '')
        .filter((target) => !/^(https?:|mailto:|#)/.test(target))
        .filter((target) => !known.includes(target))
      expect(targets).toEqual([])
    })
  }
})
