// Everything a Node user needs for a real server, without MSW: this entry never loads it.
export { createAuthServer, DEFAULT_USER } from './authServer.ts'
export { BODY_LIMIT_BYTES } from './responses.ts'
export { startAuthServer } from './startAuthServer.ts'
export type {
  RequestLogEntry,
  RunningAuthServer,
  StartAuthServerOptions,
} from './startAuthServer.ts'
export type * from './types.ts'
