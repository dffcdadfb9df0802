// Sets the npm metadata every publishable package under packages/ must carry (repository,
// homepage, bugs, license). Run after adding a package: node scripts/package-metadata.mjs
// The packaging test (e2e/packaging/metadata.test.ts) fails when a package lacks it.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'

export const REPOSITORY = 'https://github.com/tokenflight/tokenflight'

export function metadata(dir) {
  return {
    license: 'MIT',
    repository: {
      type: 'git',
      url: `git+${REPOSITORY}.git`,
      directory: `packages/${dir}`,
    },
    homepage: `${REPOSITORY}/tree/main/packages/${dir}#readme`,
    bugs: { url: `${REPOSITORY}/issues` },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const dir of readdirSync('packages')) {
    const path = `packages/${dir}/package.json`
    let pkg
    try {
      pkg = JSON.parse(readFileSync(path, 'utf8'))
    } catch {
      continue
    }
    if (pkg.private) continue
    // Keep the key order readable: metadata right after `license`.
    const next = {}
    for (const [key, value] of Object.entries(pkg)) {
      if (['repository', 'homepage', 'bugs'].includes(key)) continue
      next[key] = key === 'license' ? 'MIT' : value
      if (key === 'license') Object.assign(next, metadata(dir))
    }
    if (!('license' in next)) Object.assign(next, metadata(dir))
    writeFileSync(path, `${JSON.stringify(next, null, 2)}\n`)
  }
}
