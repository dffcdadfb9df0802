import { defineConfig } from 'vitest/config'

// Workspace packages resolve each other's `src` through this export condition,
// so tests never need a build.
const conditions = ['@tokenflight/source']

const project = (
  name: string,
  environment: 'node' | 'jsdom',
  include: string[],
  extra: { testTimeout?: number; setupFiles?: string[] } = {},
) => ({
  extends: false as const,
  resolve: { conditions: [...conditions, 'module', 'browser', 'development|production'] },
  ssr: { resolve: { conditions: [...conditions, 'module', 'node', 'development|production'] } },
  test: { name, environment, include, ...extra },
})

export default defineConfig({
  test: {
    projects: [
      project('core', 'node', ['packages/core/src/**/*.test.ts']),
      project('axios', 'node', ['packages/axios/src/**/*.test.ts']),
      project('axios-jsdom', 'jsdom', ['packages/axios/src/**/*.test.ts']),
      project('mock-server', 'node', ['packages/mock-server/src/**/*.test.ts']),
      project('react', 'jsdom', ['packages/react/src/**/*.test.{ts,tsx}']),
      project('demo', 'node', ['demo/**/*.test.ts'], { testTimeout: 120_000 }),
    ],
  },
})
