import { defineConfig } from 'vitest/config'

// Workspace packages resolve each other's `src` through this export condition,
// so tests never need a build.
const conditions = ['@tokenflight/source']

const project = (
  name: string,
  environment: 'node' | 'jsdom',
  include: string[],
  extra: {
    testTimeout?: number
    hookTimeout?: number
    setupFiles?: string[]
  } = {},
) => ({
  extends: false as const,
  resolve: {
    conditions: [...conditions, 'module', 'browser', 'development|production'],
  },
  ssr: {
    resolve: {
      conditions: [...conditions, 'module', 'node', 'development|production'],
    },
  },
  test: { name, environment, include, ...extra },
})

// `react`, `react-dom` and their subpaths → `react18`, `react-dom18`; the setup file does the
// same for the CommonJS `require`s Node resolves on its own.
const withReact18 = (p: ReturnType<typeof project>) => ({
  ...p,
  resolve: {
    ...p.resolve,
    alias: [{ find: /^(react|react-dom)(\/.*)?$/, replacement: '$118$2' }],
  },
})

export default defineConfig({
  test: {
    projects: [
      project('core', 'node', ['packages/core/src/**/*.test.ts']),
      project('axios', 'node', ['packages/axios/src/**/*.test.ts']),
      project('axios-jsdom', 'jsdom', ['packages/axios/src/**/*.test.ts']),
      project('fetch', 'node', ['packages/fetch/src/**/*.test.ts']),
      // Where the browser's rules differ (the page origin, relative URLs). jsdom's Blob is not
      // the one Node's fetch reads, so the body-replay tests stay in the node project.
      project('fetch-jsdom', 'jsdom', [
        'packages/fetch/src/__tests__/{createFetch,origins}.test.ts',
      ]),
      project('mock-server', 'node', ['packages/mock-server/src/**/*.test.ts']),
      project('react', 'jsdom', ['packages/react/src/**/*.test.{ts,tsx}']),
      // The same tests on React 18, from the `react18` / `react-dom18` npm aliases in
      // packages/react's devDependencies: no second install tree.
      withReact18(
        project('react18', 'jsdom', ['packages/react/src/**/*.test.{ts,tsx}'], {
          setupFiles: ['packages/react/src/__tests__/react18.setup.ts'],
        }),
      ),
      project('node-storage', 'node', ['packages/node/src/**/*.test.ts'], {
        testTimeout: 120_000,
      }),
      project('redis', 'node', ['packages/redis/src/**/*.test.ts'], {
        testTimeout: 120_000,
      }),
      // Real Chromium tabs (playwright-core, /usr/bin/chromium): the suite runs five times over.
      project('browser', 'node', ['e2e/browser/**/*.test.ts'], {
        testTimeout: 60_000,
      }),
      // Built packages as users get them: two copies of core in one process, .d.ts for Node-only
      // projects, README snippets.
      project('packaging', 'node', ['e2e/packaging/**/*.test.ts'], {
        testTimeout: 120_000,
        hookTimeout: 120_000,
      }),
      project('demo', 'node', ['demo/**/*.test.ts'], { testTimeout: 120_000 }),
      // examples/fastapi under uvicorn, started and stopped by the tests (Debian's python3).
      project('fastapi', 'node', ['examples/fastapi/test/**/*.test.ts'], {
        testTimeout: 30_000,
        hookTimeout: 30_000,
      }),
    ],
  },
})
