import { StorageError } from '@tokenflight/core'

/**
 * Why a Redis storage operation failed:
 * - `unavailable`: no answer in time (connection lost, Redis down, `commandTimeoutMs`);
 * - `command`: Redis answered with an error (ACL, OOM, a read-only replica…);
 * - `format`: the key holds something that is not a tokenflight token set (never overwritten);
 * - `lost`: the key is gone although this holder saw it written (Redis restarted without
 *   persistence, or the key was deleted or evicted); the next refresh writes it again.
 */
export type RedisStorageErrorReason =
  'unavailable' | 'command' | 'format' | 'lost'

/** A Redis storage operation failed. The message names the key and the command, never a token. */
export class RedisStorageError extends StorageError {
  override name = 'RedisStorageError'
  declare readonly key: string
  declare readonly reason: RedisStorageErrorReason

  constructor(
    message: string,
    options: { key: string; reason: RedisStorageErrorReason; cause?: unknown },
  ) {
    super(message, 'cause' in options ? { cause: options.cause } : {})
    this.key = options.key
    this.reason = options.reason
  }
}
