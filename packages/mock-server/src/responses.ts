/** Largest request body any route accepts. */
export const BODY_LIMIT_BYTES = 64 * 1024

export const REALM = 'tokenflight-mock'

const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' }

export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'invalid_client'

/** RFC 6749 §5.2 error; `status` defaults to 400 (401 for invalid_client). */
export function oauthError(
  error: OAuthErrorCode,
  description: string,
  status = error === 'invalid_client' ? 401 : 400,
): Response {
  const headers: Record<string, string> = { ...noStore }
  if (error === 'invalid_client')
    headers['WWW-Authenticate'] = `Basic realm="${REALM}"`
  return jsonResponse(
    status,
    { error, error_description: description },
    headers,
  )
}

export function tokenResponse(body: {
  access_token: string
  refresh_token: string
  token_type: 'bearer'
  expires_in: number
}): Response {
  return jsonResponse(200, body, noStore)
}

export function tooLarge(): Response {
  return oauthError(
    'invalid_request',
    `request body exceeds ${BODY_LIMIT_BYTES} bytes`,
    413,
  )
}

/** RFC 6750 §3: no credentials → a bare challenge without an error code. */
export function authenticationRequired(): Response {
  return jsonResponse(
    401,
    { detail: 'Not authenticated' },
    { 'WWW-Authenticate': `Bearer realm="${REALM}"` },
  )
}

export function invalidToken(description: string): Response {
  return jsonResponse(
    401,
    { error: 'invalid_token', error_description: description },
    {
      'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"`,
    },
  )
}

export function noContent(): Response {
  return new Response(null, { status: 204 })
}

export type BodyResult =
  | { ok: true; fields: Record<string, unknown> }
  | { ok: false; response: Response }

/**
 * Reads a form-encoded or JSON object body within the size limit. An empty
 * body yields no fields whatever its content type.
 */
export async function readFields(
  request: Request,
  accept: { form: boolean },
): Promise<BodyResult> {
  const text = await readText(request)
  if (text === undefined) return { ok: false, response: tooLarge() }
  if (text === null)
    return {
      ok: false,
      response: oauthError(
        'invalid_request',
        'request body is not valid UTF-8',
      ),
    }
  if (text === '') return { ok: true, fields: {} }
  const mediaType = (request.headers.get('content-type') ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase()
  if (accept.form && mediaType === 'application/x-www-form-urlencoded') {
    const params = new URLSearchParams(text)
    const fields: Record<string, unknown> = {}
    for (const [key, value] of params) {
      // RFC 6749 §3.1: parameters must not be included more than once.
      if (key in fields)
        return {
          ok: false,
          response: oauthError(
            'invalid_request',
            `parameter "${key}" is repeated`,
          ),
        }
      fields[key] = value
    }
    return { ok: true, fields }
  }
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return {
        ok: false,
        response: oauthError(
          'invalid_request',
          'request body is not valid JSON',
        ),
      }
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return {
        ok: false,
        response: oauthError(
          'invalid_request',
          'request body must be a JSON object',
        ),
      }
    return { ok: true, fields: parsed as Record<string, unknown> }
  }
  const accepted = accept.form
    ? 'application/x-www-form-urlencoded or application/json'
    : 'application/json'
  return {
    ok: false,
    response: oauthError(
      'invalid_request',
      `unsupported content type "${mediaType || 'none'}"; send ${accepted}`,
      415,
    ),
  }
}

/** The body as text; `undefined` when over the limit, `null` when not UTF-8. */
async function readText(request: Request): Promise<string | null | undefined> {
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > BODY_LIMIT_BYTES) return undefined
  if (request.body === null) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > BODY_LIMIT_BYTES) {
      // Not awaited: a tee'd body (MSW keeps a copy) may never settle the cancel.
      reader.cancel().catch(() => undefined)
      return undefined
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return null
  }
}
