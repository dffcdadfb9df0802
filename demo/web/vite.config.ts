import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defaultClientConditions, defineConfig } from 'vite'

// `vite preview` listens here unless DEMO_PREVIEW_PORT says otherwise (the e2e test picks a free port).
const previewPort = Number(process.env.DEMO_PREVIEW_PORT ?? 4173)

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  resolve: {
    // Run on the workspace packages' `src`: no package build needed for the demo.
    conditions: ['@tokenflight/source', ...defaultClientConditions],
  },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: previewPort },
  build: { outDir: 'dist', emptyOutDir: true },
})
