import { describe, expect, it } from 'vitest'
import { createSession, normalizeTokenResponse, webStorage } from '../index'
import type { SessionOptions, TokenflightError } from '../index'
import { FakeStorage, expectNoSecrets, fail, gate, httpError } from './helpers'

const AT = 'at-NOLEAK-91b2c4'
const RT = 'rt-NOLEAK-0d7e6f'
const secrets = [AT, RT]
const tokens = { accessToken: AT, refreshToken: RT, expiresAt: 10_000 }

/** Every error the session hands out for `options`, from refresh(), getAccessToken() and events. */
async function errorsOf(options: Partial<SessionOptions>) {
  const errors: unknown[] = []
  const session = createSession({
    refresh: async () => ({ access_token: 'x' }),
    retry: { attempts: 1, baseDelayMs: 1 },
    now: () => 0,
    ...options,
  })
  for (const event of [
    'expired',
    'refreshFailed',
    'storageError',
    'logoutFailed',
  ] as const)
    session.on(event, (e: { error: TokenflightError }) => errors.push(e.error))
  await session.setTokens(tokens)
  errors.push(await session.refresh().catch((e: unknown) => e))
  errors.push(await session.getAccessToken().catch((e: unknown) => e))
  errors.push(session.getSnapshot().error)
  await session.logout()
  return errors.filter((e) => e instanceof Error)
}

describe('no token in any error', () => {
  it.each<[string, Partial<SessionOptions>]>([
    ['terminal', { refresh: fail(httpError(401, { error: 'invalid_grant' })) }],
    ['transient', { refresh: fail(httpError(503)) }],
    ['network', { refresh: fail(new TypeError('fetch failed')) }],
    ['timeout', { refresh: () => new Promise(() => {}), refreshTimeoutMs: 10 }],
    // The malformed body holds the tokens themselves; the error chain is ours, follow it.
    [
      'malformed',
      {
        refresh: async () => ({
          access_token: AT,
          refresh_token: RT,
          token_type: 'mac',
        }),
      },
    ],
    ['a logout option that fails', { logout: fail(httpError(500)) }],
    [
      'a storage that throws',
      {
        storage: {
          get: () => null,
          set: () => {
            throw new Error('quota')
          },
        },
      },
    ],
  ])('%s', async (_, options) => {
    const errors = await errorsOf(options)
    expect(errors.length).toBeGreaterThan(0)
    // Our own errors and the causes we create are checked all the way down;
    // the user's thrown values above carry no token either, so the whole chain is clean.
    for (const error of errors) expectNoSecrets(error, secrets, true)
  })

  it('SessionExpiredError from a logout during a refresh', async () => {
    const answer = gate<unknown>()
    const session = createSession({ refresh: () => answer.promise })
    await session.setTokens(tokens)
    const waiting = session.getAccessToken().catch((e: unknown) => e)
    void session.refresh().catch(() => {})
    await session.logout()
    const error = await waiting
    expect(error).toBeInstanceOf(Error)
    expectNoSecrets(error, secrets, true)
  })

  it('normalizeTokenResponse errors on bodies full of tokens', () => {
    for (const body of [
      { access_token: AT, refresh_token: RT, token_type: RT },
      { access_token: AT, refresh_token: RT, expires_in: AT },
      { access_token: AT, refresh_token: { RT } },
    ]) {
      let error: unknown
      try {
        normalizeTokenResponse(body)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(Error)
      expectNoSecrets(error, secrets, true)
    }
  })

  it('the checker itself finds a token in a non-enumerable property', () => {
    const error = new Error('fine')
    Object.defineProperty(error, 'hidden', { value: { deep: `x${AT}` } })
    expect(() => expectNoSecrets(error, secrets)).toThrow(/holds a token/)
    const symbol = new Error('fine')
    Object.defineProperty(symbol, Symbol('x'), { value: [AT] })
    expect(() => expectNoSecrets(symbol, secrets)).toThrow(/holds a token/)
    const caused = new Error('fine', { cause: new Error(RT) })
    expect(() => expectNoSecrets(caused, secrets)).not.toThrow()
    expect(() => expectNoSecrets(caused, secrets, true)).toThrow()
  })

  it('webStorage keeps tokens only in its Storage', async () => {
    const backing = new FakeStorage()
    backing.setItem('tokenflight', `{"accessToken":"${AT}"`)
    const storage = webStorage(backing)
    expect(storage.get()).toBeNull()
  })
})
