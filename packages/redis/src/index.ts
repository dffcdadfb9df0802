export { redisStorage } from './redisStorage'
export type {
  RedisClientLike,
  RedisStorage,
  RedisStorageOptions,
  RedisSubscriberLike,
} from './redisStorage'
export { RedisStorageError } from './errors'
export type { RedisStorageErrorReason } from './errors'
