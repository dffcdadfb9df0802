import { QueryClient } from '@tanstack/query-core' // or '@tanstack/react-query'
import {
  createSession,
  isTokenflightError,
  oauth2Client,
} from '@tokenflight/core'
import { createFetch } from '@tokenflight/fetch'

const baseUrl = 'https://api.example.com'
export const session = createSession(oauth2Client({ baseUrl }))
export const api = createFetch(session, { allowedOrigins: [baseUrl] })

export class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`)
  }
}

// No token in here, in the query key or in a closure: `api` reads the session's token
// when each attempt is sent, so a retry after a refresh carries the new one.
async function getJson<T>(path: string, signal: AbortSignal): Promise<T> {
  const response = await api(`${baseUrl}${path}`, { signal })
  if (!response.ok) throw new HttpError(response.status)
  return (await response.json()) as T
}

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      retry: (failureCount, error) =>
        failureCount < 3 &&
        // The session could not be refreshed: a login will help, asking again will not.
        !isTokenflightError(error) &&
        // This 401 came after `api` had refreshed and sent the request again.
        !(error instanceof HttpError && error.status === 401),
    },
  },
})

export type Todo = { id: number; title: string; done: boolean }

export const todosQuery = {
  queryKey: ['todos'],
  queryFn: ({ signal }: { signal: AbortSignal }) =>
    getJson<Todo[]>('/todos', signal),
}
// In a component: const { data, error } = useQuery(todosQuery)
