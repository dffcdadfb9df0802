// The error codes of RFC 6749 (§4.1.2.1, §5.2) and RFC 6750 (§3.1).
const codes =
  'invalid_request invalid_client invalid_grant unauthorized_client unsupported_grant_type invalid_scope access_denied unsupported_response_type server_error temporarily_unavailable invalid_token insufficient_scope'.split(
    ' ',
  )

/**
 * `value` when it is a standard OAuth2 error code, else undefined: the only word from a
 * server a message repeats (a server may echo a token in `error`).
 */
export const oauthCode = (value: unknown): string | undefined =>
  codes.includes(value as string) ? (value as string) : undefined
