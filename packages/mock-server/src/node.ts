export { startAuthServer } from './startAuthServer.ts'
export type {
  RequestLogEntry,
  RunningAuthServer,
  StartAuthServerOptions,
} from './startAuthServer.ts'
