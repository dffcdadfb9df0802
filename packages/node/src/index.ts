export { fileStorage } from './fileStorage'
export type { FileStorage, FileStorageOptions } from './fileStorage'
export { LockTimeoutError, TokenFileError } from './errors'
