export { startAuthServer } from './startAuthServer.ts'
export type {
  RunningAuthServer,
  StartAuthServerOptions,
} from './startAuthServer.ts'
