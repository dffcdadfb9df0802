export { createAuthServer, DEFAULT_USER } from './authServer.ts'
export { authHandlers } from './authHandlers.ts'
export { BODY_LIMIT_BYTES } from './responses.ts'
export type {
  AuditEntry,
  AuditEvent,
  AuthServer,
  AuthServerOptions,
  AuthStats,
  AuthUser,
  Endpoint,
  Fault,
  FaultKind,
  ReusePolicy,
  Todo,
} from './types.ts'
