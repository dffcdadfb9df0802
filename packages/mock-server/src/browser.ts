export { startAuthWorker } from './startAuthWorker.ts'
export type {
  RunningAuthWorker,
  StartAuthWorkerOptions,
} from './startAuthWorker.ts'
