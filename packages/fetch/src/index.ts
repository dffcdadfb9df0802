export { createFetch } from './createFetch'
export type {
  AuthFetch,
  AuthRequestInit,
  CreateFetchOptions,
} from './createFetch'
export { kyAuth } from './kyAuth'
export type { KyAuthHooks, KyHookOptions } from './kyAuth'
export { openapiFetchAuth } from './openapiFetchAuth'
export type { OpenapiFetchAuthMiddleware } from './openapiFetchAuth'
export { UnreplayableBodyError } from './shared'
// From @tokenflight/core, where @tokenflight/axios finds it too.
export { UnsafeRedirectError } from '@tokenflight/core'
export type { AuthOptions } from './shared'
