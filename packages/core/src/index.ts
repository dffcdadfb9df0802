export { browserStorage } from './browserStorage'
export type { BrowserStorageOptions } from './browserStorage'
export { createSession } from './createSession'
export { memoryStorage } from './memoryStorage'
export { normalizeTokenResponse } from './normalizeTokenResponse'
export { oauth2Client } from './oauth2Client'
export type {
  OAuth2Client,
  OAuth2ClientOptions,
  OAuth2Credentials,
} from './oauth2Client'
export {
  createOriginFilter,
  originOf,
  pageHref,
  renewForRetry,
} from './requestAuth'
export { sameTokens } from './sameTokens'
export { webStorage } from './webStorage'
export type { WebStorageLike } from './webStorage'
export {
  InvalidTokenResponseError,
  OAuth2HttpError,
  RefreshError,
  RefreshTimeoutError,
  SessionExpiredError,
  StorageConflictError,
  StorageError,
  TokenflightError,
  UnsafeRedirectError,
  isTokenflightError,
} from './errors'
export type * from './types'
