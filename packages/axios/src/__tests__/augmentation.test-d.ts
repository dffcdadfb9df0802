// Compile-time checks (run by `tsc`): the per-request flags need no casts in user code.
import axios from 'axios'
import type { AxiosRequestConfig, InternalAxiosRequestConfig } from 'axios'
import { expectTypeOf } from 'vitest'
import type { AttachSessionOptions } from '../index'
import { attachSession } from '../index'

const api = axios.create({ baseURL: 'https://api.example.com' })

void api.get('/public', { skipAuth: true })
void api.post('/audit', { event: 'x' }, { skipAuthRefresh: true })
void api.request({ url: '/me', skipAuth: false, skipAuthRefresh: undefined })
api.interceptors.request.use((config) => {
  expectTypeOf(config.skipAuth).toEqualTypeOf<boolean | undefined>()
  return config
})

expectTypeOf<AxiosRequestConfig['skipAuth']>().toEqualTypeOf<
  boolean | undefined
>()
expectTypeOf<InternalAxiosRequestConfig['skipAuthRefresh']>().toEqualTypeOf<
  boolean | undefined
>()

// @ts-expect-error a flag is a boolean
void api.get('/me', { skipAuth: 'yes' })

expectTypeOf(attachSession).returns.toEqualTypeOf<() => void>()
expectTypeOf<AttachSessionOptions['allowedOrigins']>().toEqualTypeOf<
  Array<string | RegExp> | undefined
>()
