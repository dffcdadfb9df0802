// Type tests: checked by `tsc` (pnpm --filter @tokenflight/react typecheck), never run.
import type {
  RefreshError,
  SessionSnapshot,
  SessionStatus,
  TokenflightError,
  TokenSet,
} from '@tokenflight/core'
import { expectTypeOf } from 'vitest'
import {
  useAuth,
  useLogin,
  useSession,
  useSessionEvent,
  type UseAuthResult,
} from '../index'

export function typeTests() {
  expectTypeOf(useSession()).toEqualTypeOf<SessionSnapshot>()
  expectTypeOf(useSession((s) => s.status)).toEqualTypeOf<SessionStatus>()
  expectTypeOf(
    useSession(
      (s) => ({ n: s.generation }),
      (a, b) => a.n === b.n,
    ),
  ).toEqualTypeOf<{ n: number }>()
  const numbersEqual = (a: number, b: number) => a === b
  // @ts-expect-error isEqual compares two selections (here statuses), not numbers
  useSession((s) => s.status, numbersEqual)

  const auth = useAuth()
  expectTypeOf(auth).toEqualTypeOf<UseAuthResult>()
  expectTypeOf(auth.error).toEqualTypeOf<TokenflightError | null>()
  expectTypeOf(auth.refresh).returns.toEqualTypeOf<Promise<TokenSet>>()
  expectTypeOf(useLogin().login).returns.toEqualTypeOf<Promise<boolean>>()

  useSessionEvent('refreshed', (e) => {
    expectTypeOf(e.generation).toEqualTypeOf<number>()
  })
  useSessionEvent('expired', (e) => {
    expectTypeOf(e.error).toEqualTypeOf<RefreshError>()
    expectTypeOf(e.error.terminal).toBeBoolean()
  })
  // @ts-expect-error not a session event
  useSessionEvent('loggedIn', () => {})
}
