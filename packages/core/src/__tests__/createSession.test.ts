import { describe, expect, it } from 'vitest'
import { createSession } from '../index'

describe('createSession (smoke)', () => {
  it('shares one refresh between 50 concurrent callers', async () => {
    let calls = 0
    const session = createSession({
      refresh: async () => {
        calls++
        return { access_token: 'new-access', expires_in: 60 }
      },
    })
    await session.setTokens({ accessToken: 'old', refreshToken: 'r1' })
    const all = Array.from({ length: 50 }, () => session.refresh())
    expect(new Set(all).size).toBe(1)
    const results = await Promise.all(all)
    expect(calls).toBe(1)
    expect(results[0]?.accessToken).toBe('new-access')
    expect(results[0]?.refreshToken).toBe('r1')
    expect(session.getSnapshot()).toMatchObject({
      status: 'authenticated',
      generation: 2,
    })
    expect(await session.getAccessToken()).toBe('new-access')
  })
})
