// Checked by `tsc` (pnpm --filter @tokenflight/core typecheck), not run.
import { expectTypeOf } from 'vitest'
import { createSession, oauth2Client } from '../index'
import type {
  RefreshError,
  SessionSnapshot,
  StorageError,
  TokenSet,
  TokenflightError,
} from '../index'

const session = createSession({ ...oauth2Client({ baseUrl: '' }) })

expectTypeOf(session.getSnapshot()).toEqualTypeOf<SessionSnapshot>()
expectTypeOf(session.refresh()).resolves.toEqualTypeOf<TokenSet>()
expectTypeOf(session.getAccessToken()).resolves.toEqualTypeOf<string | null>()
expectTypeOf(session.subscribe(() => {})).toEqualTypeOf<() => void>()

session.on('refreshed', (e) => {
  expectTypeOf(e).toEqualTypeOf<{
    generation: number
    expiresAt: number | undefined
  }>()
})
// Narrowed to what is emitted: `error.terminal` needs no cast.
session.on('refreshFailed', ({ error }) => {
  expectTypeOf(error).toEqualTypeOf<RefreshError>()
  expectTypeOf(error.terminal).toBeBoolean()
})
session.on('expired', ({ error }) => {
  expectTypeOf(error).toEqualTypeOf<RefreshError>()
})
session.on('storageError', ({ error, operation }) => {
  expectTypeOf(error).toEqualTypeOf<StorageError>()
  expectTypeOf(operation).toEqualTypeOf<'get' | 'set' | 'lock' | 'watch'>()
})
session.on('logoutFailed', ({ error }) => {
  expectTypeOf(error).toEqualTypeOf<TokenflightError>()
})
// @ts-expect-error: not an event
session.on('refreshing', () => {})

declare const failure: RefreshError
expectTypeOf(failure.terminal).toBeBoolean()
expectTypeOf(failure.status).toEqualTypeOf<number | undefined>()

// @ts-expect-error: refresh is required
createSession({})
