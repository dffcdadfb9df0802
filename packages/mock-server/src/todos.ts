import { protectedResource } from './bearer.ts'
import type { Context } from './context.ts'
import {
  jsonResponse,
  noContent,
  readFields,
  type BodyResult,
} from './responses.ts'
import type { ServerState } from './state.ts'
import type { Todo } from './types.ts'

// The protected resource: a to-do list per user (`/todos`, `/todos/:id`).

type Problem = { loc: string[]; msg: string }

/** `GET|POST /todos` (`id` undefined) and `GET|PATCH|DELETE /todos/:id`. */
export async function todosRoute(
  ctx: Context,
  request: Request,
  id: string | undefined,
): Promise<Response> {
  const method = request.method.toUpperCase()
  // Read before the state is touched (a shared store holds a lock meanwhile); its
  // errors are answered only after authentication, as before.
  const body: BodyResult =
    method === 'POST' || method === 'PATCH'
      ? await readFields(request, { form: false })
      : { ok: true, fields: {} }
  return protectedResource(ctx, request, (user, state) => {
    const list = todosOf(ctx, state, user)
    if (id === undefined && method === 'GET') return jsonResponse(200, list)
    if (id === undefined) {
      if (!body.ok) return body.response
      const problems = validateTodo(body.fields, { partial: false })
      if (problems.length > 0) return validationError(problems)
      const todo: Todo = {
        id: state.nextTodoId++,
        title: (body.fields.title as string).trim(),
        done: (body.fields.done as boolean | undefined) ?? false,
      }
      list.push(todo)
      return jsonResponse(201, todo, { Location: `/todos/${todo.id}` })
    }
    const index = /^[1-9]\d{0,8}$/.test(id)
      ? list.findIndex((t) => t.id === Number(id))
      : -1
    if (index === -1)
      return jsonResponse(404, { detail: `todo ${id} not found` })
    const todo = list[index]!
    if (method === 'GET') return jsonResponse(200, todo)
    if (method === 'DELETE') {
      list.splice(index, 1)
      return noContent()
    }
    if (!body.ok) return body.response
    const problems = validateTodo(body.fields, { partial: true })
    if (problems.length > 0) return validationError(problems)
    if (typeof body.fields.title === 'string')
      todo.title = body.fields.title.trim()
    if (typeof body.fields.done === 'boolean') todo.done = body.fields.done
    return jsonResponse(200, todo)
  })
}

function todosOf(ctx: Context, state: ServerState, user: string): Todo[] {
  let list = state.todos.get(user)
  if (!list) {
    list = ctx.settings.seedTodos
      ? [
          {
            id: state.nextTodoId++,
            title: 'Let the access token expire',
            done: false,
          },
          {
            id: state.nextTodoId++,
            title: 'Watch tokenflight refresh it once',
            done: false,
          },
        ]
      : []
    state.todos.set(user, list)
  }
  return list
}

export function validationError(problems: Problem[]): Response {
  return jsonResponse(422, { error: 'validation_error', detail: problems })
}

function validateTodo(
  fields: Record<string, unknown>,
  { partial }: { partial: boolean },
): Problem[] {
  const problems: Problem[] = []
  const { title, done } = fields
  if (title === undefined) {
    if (!partial)
      problems.push({ loc: ['body', 'title'], msg: 'title is required' })
  } else if (typeof title !== 'string' || title.trim() === '')
    problems.push({
      loc: ['body', 'title'],
      msg: 'title must be a non-empty string',
    })
  else if (title.trim().length > 200)
    problems.push({
      loc: ['body', 'title'],
      msg: 'title must be at most 200 characters',
    })
  if (done !== undefined && typeof done !== 'boolean')
    problems.push({ loc: ['body', 'done'], msg: 'done must be a boolean' })
  if (partial && title === undefined && done === undefined)
    problems.push({ loc: ['body'], msg: 'send at least one of title, done' })
  return problems
}
