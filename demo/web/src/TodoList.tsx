import { useCallback, useEffect, useState } from 'react'
import type { FormEvent } from 'react'
import { isTerminal } from './activityLog'
import { useDemo } from './demoContext'

export type Todo = { id: string | number; title: string; done: boolean }

/** The list re-syncs on this interval, so refreshes also happen without a click. */
const SYNC_INTERVAL_MS = 15_000

export function TodoList() {
  const { api, activity } = useDemo()
  const [todos, setTodos] = useState<Todo[] | null>(null)
  const [title, setTitle] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  // One place for failures: a terminal one ends the session and the app shows the login form.
  const fail = useCallback(
    (what: string, caught: unknown) => {
      if (isTerminal(caught)) return
      const reason = caught instanceof Error ? caught.message : String(caught)
      setError(`${what}: ${reason}`)
      activity.add('error', `${what}: ${reason}`)
    },
    [activity],
  )

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const { data } = await api.get<Todo[]>(
          '/todos',
          signal ? { signal } : {},
        )
        setTodos(data)
        setError(null)
      } catch (caught) {
        if (!signal?.aborted) fail('Could not load the to-dos', caught)
      }
    },
    [api, fail],
  )

  useEffect(() => {
    const controller = new AbortController()
    void load(controller.signal)
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') void load(controller.signal)
    }, SYNC_INTERVAL_MS)
    return () => {
      controller.abort()
      clearInterval(id)
    }
  }, [load])

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const trimmed = title.trim()
    if (!trimmed) return
    setBusy(true)
    try {
      const { data } = await api.post<Todo>('/todos', { title: trimmed })
      setTodos((current) => [...(current ?? []), data])
      setTitle('')
      setError(null)
    } catch (caught) {
      fail('Could not add the to-do', caught)
    } finally {
      setBusy(false)
    }
  }

  async function toggle(todo: Todo) {
    try {
      const { data } = await api.patch<Todo>(`/todos/${todo.id}`, {
        done: !todo.done,
      })
      setTodos(
        (current) => current?.map((t) => (t.id === todo.id ? data : t)) ?? null,
      )
    } catch (caught) {
      fail('Could not update the to-do', caught)
    }
  }

  async function remove(todo: Todo) {
    try {
      await api.delete(`/todos/${todo.id}`)
      setTodos((current) => current?.filter((t) => t.id !== todo.id) ?? null)
    } catch (caught) {
      fail('Could not delete the to-do', caught)
    }
  }

  const open = todos?.filter((t) => !t.done).length ?? 0

  return (
    <section className="card todos" aria-labelledby="todos-title">
      <header className="card-header">
        <h2 id="todos-title">To-dos</h2>
        <span className="muted small" data-testid="todo-summary">
          {todos === null ? 'Loading…' : `${open} open · ${todos.length} total`}
        </span>
      </header>

      <form className="todo-add" onSubmit={add}>
        <input
          placeholder="What needs doing?"
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          aria-label="New to-do"
          data-testid="new-todo-input"
        />
        <button
          className="button button-primary"
          type="submit"
          disabled={busy || !title.trim()}
          data-testid="add-todo"
        >
          Add
        </button>
      </form>

      {error ? (
        <div
          className="notice notice-error"
          role="alert"
          data-testid="todo-error"
        >
          {error}
        </div>
      ) : null}

      {todos === null ? (
        <ul className="todo-list" aria-busy="true">
          {[0, 1, 2].map((i) => (
            <li key={i} className="todo skeleton" />
          ))}
        </ul>
      ) : todos.length === 0 ? (
        <p className="empty" data-testid="todo-list">
          Nothing to do. Add something above.
        </p>
      ) : (
        <ul className="todo-list" data-testid="todo-list">
          {todos.map((todo) => (
            <li
              key={todo.id}
              className={todo.done ? 'todo done' : 'todo'}
              data-testid="todo-item"
            >
              <label className="todo-check">
                <input
                  type="checkbox"
                  checked={todo.done}
                  onChange={() => void toggle(todo)}
                  data-testid="todo-toggle"
                />
                <span className="todo-title" data-testid="todo-title">
                  {todo.title}
                </span>
              </label>
              <button
                className="icon-button"
                type="button"
                aria-label={`Delete “${todo.title}”`}
                onClick={() => void remove(todo)}
                data-testid="todo-delete"
              >
                <svg viewBox="0 0 20 20" aria-hidden="true">
                  <path d="M5 5l10 10M15 5L5 15" />
                </svg>
              </button>
            </li>
          ))}
        </ul>
      )}
      <footer className="card-footer muted small">
        Every call goes through one axios instance with{' '}
        <code>attachSession</code>. The list re-syncs every{' '}
        {SYNC_INTERVAL_MS / 1000} s.
      </footer>
    </section>
  )
}
