import { StorageError } from '@tokenflight/core'

/**
 * The token file cannot be used: `reason: 'format'` — it is not a tokenflight token file
 * (corrupt, or another program's file: fileStorage never overwrites it); `reason: 'io'` —
 * the file system refused a read, a write or the lock file (a read-only folder, a full
 * disk, permissions). The message names the path and the error code, never a token.
 */
export class TokenFileError extends StorageError {
  override name = 'TokenFileError'
  declare readonly path: string
  declare readonly reason: 'format' | 'io'

  constructor(
    message: string,
    options: { path: string; reason: 'format' | 'io'; cause?: unknown },
  ) {
    super(message, 'cause' in options ? { cause: options.cause } : {})
    this.path = options.path
    this.reason = options.reason
  }
}

/** A write waited longer than `lockWaitMs` for the lock file that another process holds. */
export class LockTimeoutError extends StorageError {
  override name = 'LockTimeoutError'
  declare readonly path: string
  declare readonly waitedMs: number

  constructor(path: string, waitedMs: number) {
    super(`The token file lock ${path} was not obtained within ${waitedMs} ms`)
    this.path = path
    this.waitedMs = waitedMs
  }
}
