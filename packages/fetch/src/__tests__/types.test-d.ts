// Compile-time checks (run by `tsc`): the opt-outs need no casts, and each binding fits its client.
import ky from 'ky'
import type { Hooks } from 'ky'
import createClient from 'openapi-fetch'
import type { Middleware } from 'openapi-fetch'
import { expectTypeOf } from 'vitest'
import { createSession } from '@tokenflight/core'
import { createFetch, kyAuth, openapiFetchAuth } from '../index'
import type { AuthFetch, AuthRequestInit, CreateFetchOptions } from '../index'

const session = createSession({ refresh: async () => ({}) })
const api = createFetch(session, {
  allowedOrigins: ['https://api.example.com'],
})

void api('https://api.example.com/public', { skipAuth: true })
void api(new URL('https://api.example.com/audit'), {
  method: 'POST',
  body: '{}',
  skipAuthRefresh: true,
})
void api(new Request('https://api.example.com/me'))
// @ts-expect-error a flag is a boolean
void api('https://api.example.com/me', { skipAuth: 'yes' })

// A drop-in for fetch wherever a library takes one.
const asFetch: typeof fetch = api
void asFetch
expectTypeOf(api).toEqualTypeOf<AuthFetch>()
expectTypeOf<AuthRequestInit>().toExtend<RequestInit>()
expectTypeOf<AuthRequestInit['skipAuth']>().toEqualTypeOf<boolean | undefined>()
// The fetch option takes the global fetch, or another createFetch.
expectTypeOf(fetch).toExtend<NonNullable<CreateFetchOptions['fetch']>>()
createFetch(session, { allowedOrigins: [/^https:\/\//], fetch: api })
createFetch(session, {
  allowedOrigins: ['https://api.example.com'],
  shouldRefresh: (response, request) =>
    response.headers.has('www-authenticate') && request.method !== 'DELETE',
})

// ky: the hooks spread into ky's own, alone or with others.
const hooks = kyAuth(session, { allowedOrigins: ['https://api.example.com'] })
ky.create({ hooks })
ky.create({
  hooks: {
    ...hooks,
    beforeRequest: [...hooks.beforeRequest, (request) => void request],
  },
})
expectTypeOf(hooks).toExtend<Hooks>()
void ky.get('https://api.example.com/me', { context: { skipAuth: true } })

// openapi-fetch: a Middleware for client.use().
const middleware = openapiFetchAuth(session, {
  allowedOrigins: ['https://api.example.com'],
})
expectTypeOf(middleware).toExtend<Middleware>()
createClient({ baseUrl: 'https://api.example.com' }).use(middleware)
