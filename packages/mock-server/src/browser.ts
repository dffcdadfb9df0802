export { startAuthWorker } from './startAuthWorker.ts'
export type { StartAuthWorkerOptions } from './startAuthWorker.ts'
