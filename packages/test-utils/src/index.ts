export { deferred, gate } from './deferred'
export type { Deferred, Gate } from './deferred'
