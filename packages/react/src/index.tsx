export {
  SessionProvider,
  useSessionInstance,
  type SessionProviderProps,
} from './SessionProvider'
export { useSession } from './useSession'
export { useAuth, type UseAuthResult } from './useAuth'
export { useLogin, type UseLoginResult } from './useLogin'
export { useSessionEvent } from './useSessionEvent'
export { Authenticated, type AuthenticatedProps } from './Authenticated'
