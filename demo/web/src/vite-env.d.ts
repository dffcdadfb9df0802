/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Base URL of a real mock server (`pnpm demo:server`); unset = the mock API runs in a service worker. */
  readonly VITE_TOKENFLIGHT_API?: string
}

interface ImportMeta {
  readonly env: ImportMetaEnv
}
