import type { AxiosRequestConfig } from 'axios'

// axios' own test (helpers/isAbsoluteURL): `scheme://` or protocol-relative `//`.
const isAbsoluteURL = (url: string) => /^([a-z][a-z\d+\-.]*:)?\/\//i.test(url)

/** The page's URL in a browser (or worker), where relative URLs resolve; undefined elsewhere. */
export const pageHref = (): string | undefined => globalThis.location?.href

/** The WHATWG origin of `url` (relative URLs resolve against the page), or undefined. */
export function originOf(url: string): string | undefined {
  try {
    const { origin } = new URL(url, pageHref())
    // Opaque origins (data:, file:, blob: without a host) never carry a token.
    return origin === 'null' ? undefined : origin
  } catch {
    return undefined
  }
}

/** The origin a request will reach, resolving baseURL + url by axios' rules (helpers/buildFullPath). */
export function requestOrigin(
  config: Pick<AxiosRequestConfig, 'url' | 'baseURL' | 'allowAbsoluteUrls'>,
): string | undefined {
  const { url = '', baseURL } = config
  return originOf(
    baseURL &&
      url &&
      (!isAbsoluteURL(url) || config.allowAbsoluteUrls === false)
      ? `${baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`
      : url || baseURL || '',
  )
}
