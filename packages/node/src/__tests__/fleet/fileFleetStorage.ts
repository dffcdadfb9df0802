// The fleet's storage module for fileStorage (see fleet.ts).
import type { TokenSet } from '@tokenflight/core'
import { fileStorage } from '../../index'

export type FileFleetOptions = { path: string; staleMs?: number }

export async function createStorage({ path, staleMs }: FileFleetOptions) {
  return fileStorage(path, staleMs === undefined ? {} : { staleMs })
}

export async function seed({ path }: FileFleetOptions, tokens: TokenSet) {
  await fileStorage(path).set(tokens)
}
