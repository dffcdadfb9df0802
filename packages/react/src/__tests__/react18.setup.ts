// Setup for the optional `react18` vitest project: React 18 from the `react18` / `react-dom18`
// npm aliases, in the same install tree as React 19. The project's `resolve.alias` covers every
// module Vite transforms; this hook covers CommonJS `require('react')` inside the React 18 DOM
// renderer itself, which pnpm linked against React 19 (its peer) and Node resolves on its own.
import Module, { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const aliases: Record<string, string> = {
  react: 'react18',
  'react-dom': 'react-dom18',
}

// `_resolveFilename` is Node's internal CommonJS resolver, absent from @types/node.
const cjs = Module as unknown as {
  _resolveFilename: (request: string, ...rest: unknown[]) => string
}
const resolveFilename = cjs._resolveFilename
cjs._resolveFilename = function (this: unknown, request, ...rest) {
  const match = /^(react|react-dom)(\/.*)?$/.exec(request)
  const alias = match && aliases[match[1] ?? '']
  return alias
    ? require.resolve(alias + (match[2] ?? ''))
    : resolveFilename.call(this, request, ...rest)
}

// Read by reactVersion.test.tsx, which checks that this project really renders with React 18.
process.env.TOKENFLIGHT_REACT_MAJOR = '18'
