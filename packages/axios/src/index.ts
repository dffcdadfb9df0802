export { attachSession } from './attachSession'
export type { AttachSessionOptions } from './attachSession'
