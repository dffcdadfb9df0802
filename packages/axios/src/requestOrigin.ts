import type { AxiosRequestConfig } from 'axios'

/** The page's URL in a browser (or worker), where relative URLs resolve; undefined elsewhere. */
export const pageHref = (): string | undefined => globalThis.location?.href

/** The WHATWG origin of `url` (relative URLs resolve against the page), or undefined. */
export function originOf(url: string): string | undefined {
  try {
    const { origin } = new URL(url, pageHref())
    // Opaque origins (data:, file:, blob: without a host) never get a token.
    return origin === 'null' ? undefined : origin
  } catch {
    return undefined
  }
}

/** The origin a request will reach, resolving baseURL + url by axios' rules (core/buildFullPath). */
export function requestOrigin({
  url = '',
  baseURL,
  allowAbsoluteUrls,
}: Pick<AxiosRequestConfig, 'url' | 'baseURL' | 'allowAbsoluteUrls'>):
  string | undefined {
  // axios' isAbsoluteURL: `scheme://` or protocol-relative `//`. Its combineURLs trims the
  // slashes around the join, which moves no origin: the `/` between them is what counts.
  return originOf(
    baseURL &&
      (!/^([a-z][a-z\d+\-.]*:)?\/\//i.test(url) || allowAbsoluteUrls === false)
      ? `${baseURL}/${url}`
      : url,
  )
}
