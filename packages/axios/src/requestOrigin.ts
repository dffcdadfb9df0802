import type { AxiosRequestConfig } from 'axios'
import { originOf } from '@tokenflight/core'

// Origins by baseURL. Parsing a URL is the dearest step of the request interceptor, and
// an instance sends nearly every request under the same baseURL. A page keeps its origin
// for its whole life (pushState cannot change it), so relative baseURLs cache as well.
const byBase = new Map<string, string | undefined>()

/** The origin a request will reach, resolving baseURL + url by axios' rules (core/buildFullPath). */
export function requestOrigin({
  url = '',
  baseURL,
  allowAbsoluteUrls,
}: Pick<AxiosRequestConfig, 'url' | 'baseURL' | 'allowAbsoluteUrls'>):
  string | undefined {
  // axios' isAbsoluteURL: `scheme://` or protocol-relative `//`. Its combineURLs trims the
  // slashes around the join, which moves no origin: the `/` between them is what counts.
  if (
    !baseURL ||
    (/^([a-z][a-z\d+\-.]*:)?\/\//i.test(url) && allowAbsoluteUrls !== false)
  )
    return originOf(url)
  // The `/` after baseURL ends its authority, so nothing in url can move the origin.
  if (!byBase.has(baseURL)) {
    // A bound, for apps that build a baseURL per request.
    if (byBase.size >= 64) byBase.clear()
    byBase.set(baseURL, originOf(`${baseURL}/`))
  }
  return byBase.get(baseURL)
}
