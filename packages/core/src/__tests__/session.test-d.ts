// Checked by `tsc` (pnpm --filter @tokenflight/core typecheck), not run.
import { expectTypeOf } from 'vitest'
import { createSession, oauth2Client } from '../index'
import type {
  RefreshError,
  SessionSnapshot,
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
session.on('refreshFailed', ({ error }) => {
  expectTypeOf(error).toEqualTypeOf<TokenflightError>()
})
session.on('storageError', ({ operation }) => {
  expectTypeOf(operation).toEqualTypeOf<'get' | 'set' | 'lock' | 'watch'>()
})
// @ts-expect-error: not an event
session.on('refreshing', () => {})

declare const failure: RefreshError
expectTypeOf(failure.terminal).toBeBoolean()
expectTypeOf(failure.status).toEqualTypeOf<number | undefined>()

// @ts-expect-error: refresh is required
createSession({})
