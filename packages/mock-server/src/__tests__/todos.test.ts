import { describe, expect, it } from 'vitest'
import type { AuthServerOptions, Todo } from '../types.ts'
import { bearer, json, login, modes, serverPerTest } from './helpers.ts'

describe.each(modes)('/todos over %s', (mode) => {
  const serveOne = serverPerTest(mode, {
    users: [
      { username: 'ada', password: 'a' },
      { username: 'bob', password: 'b' },
    ],
  })
  /** A server and ada's access token. */
  async function start(options: AuthServerOptions = {}) {
    const { server, url } = await serveOne(options)
    const { access_token } = await login(url, {
      username: 'ada',
      password: 'a',
    })
    return { server, url, token: access_token }
  }

  it('starts with two seeded to-dos per user', async () => {
    const { url, token } = await start()
    const response = await fetch(`${url}/todos`, bearer(token))
    expect(response.status).toBe(200)
    const todos = (await response.json()) as Todo[]
    expect(todos).toHaveLength(2)
    expect(todos[0]).toEqual({
      id: expect.any(Number),
      title: expect.any(String),
      done: false,
    })
  })

  it('seedTodos: false starts empty', async () => {
    const { url, token } = await start({ seedTodos: false })
    expect(await (await fetch(`${url}/todos`, bearer(token))).json()).toEqual(
      [],
    )
  })

  it('create, read, update, delete', async () => {
    const { server, url, token } = await start({ seedTodos: false })
    const created = await fetch(
      `${url}/todos`,
      json('POST', { title: '  Buy milk ' }, token),
    )
    expect(created.status).toBe(201)
    const todo = (await created.json()) as Todo
    expect(todo).toEqual({
      id: expect.any(Number),
      title: 'Buy milk',
      done: false,
    })
    expect(created.headers.get('location')).toBe(`/todos/${todo.id}`)

    expect(
      await (await fetch(`${url}/todos/${todo.id}`, bearer(token))).json(),
    ).toEqual(todo)

    const patched = await fetch(
      `${url}/todos/${todo.id}`,
      json('PATCH', { done: true }, token),
    )
    expect(patched.status).toBe(200)
    expect(await patched.json()).toEqual({ ...todo, done: true })
    const renamed = await fetch(
      `${url}/todos/${todo.id}`,
      json('PATCH', { title: 'Buy oat milk' }, token),
    )
    expect(await renamed.json()).toEqual({
      ...todo,
      title: 'Buy oat milk',
      done: true,
    })

    expect(await (await fetch(`${url}/todos`, bearer(token))).json()).toEqual([
      { ...todo, title: 'Buy oat milk', done: true },
    ])

    const deleted = await fetch(
      `${url}/todos/${todo.id}`,
      bearer(token, { method: 'DELETE' }),
    )
    expect(deleted.status).toBe(204)
    expect(await (await fetch(`${url}/todos`, bearer(token))).json()).toEqual(
      [],
    )
    expect(server.stats.served).toBe(7)
  })

  it('unknown ids → 404', async () => {
    const { url, token } = await start()
    for (const id of ['9999', 'abc', '0', '-1']) {
      const response = await fetch(
        `${url}/todos/${id}`,
        json('PATCH', { done: true }, token),
      )
      expect(response.status).toBe(404)
      expect(await response.json()).toEqual({ detail: `todo ${id} not found` })
    }
    expect(
      (await fetch(`${url}/todos/9999`, bearer(token, { method: 'DELETE' })))
        .status,
    ).toBe(404)
  })

  it('validation errors → 422 with the field and a message', async () => {
    const { url, token } = await start()
    const cases: Array<
      [string, string, unknown, Array<{ loc: string[]; msg: string }>]
    > = [
      [
        'POST',
        '/todos',
        {},
        [{ loc: ['body', 'title'], msg: 'title is required' }],
      ],
      [
        'POST',
        '/todos',
        { title: '   ' },
        [{ loc: ['body', 'title'], msg: 'title must be a non-empty string' }],
      ],
      [
        'POST',
        '/todos',
        { title: 5 },
        [{ loc: ['body', 'title'], msg: 'title must be a non-empty string' }],
      ],
      [
        'POST',
        '/todos',
        { title: 'x'.repeat(201) },
        [
          {
            loc: ['body', 'title'],
            msg: 'title must be at most 200 characters',
          },
        ],
      ],
      [
        'POST',
        '/todos',
        { title: 'ok', done: 'yes' },
        [{ loc: ['body', 'done'], msg: 'done must be a boolean' }],
      ],
    ]
    const [first] = (await (
      await fetch(`${url}/todos`, bearer(token))
    ).json()) as Todo[]
    cases.push(
      [
        'PATCH',
        `/todos/${first!.id}`,
        {},
        [{ loc: ['body'], msg: 'send at least one of title, done' }],
      ],
      [
        'PATCH',
        `/todos/${first!.id}`,
        { done: null },
        [{ loc: ['body', 'done'], msg: 'done must be a boolean' }],
      ],
    )
    for (const [method, path, body, detail] of cases) {
      const response = await fetch(`${url}${path}`, json(method, body, token))
      expect(response.status).toBe(422)
      expect(await response.json()).toEqual({
        error: 'validation_error',
        detail,
      })
    }
    // Nothing changed.
    expect(
      await (await fetch(`${url}/todos`, bearer(token))).json(),
    ).toHaveLength(2)
  })

  it('lists are per user', async () => {
    const { url, token } = await start()
    await fetch(`${url}/todos`, json('POST', { title: 'ada only' }, token))
    const bob = await login(url, { username: 'bob', password: 'b' })
    const bobs = (await (
      await fetch(`${url}/todos`, bearer(bob.access_token))
    ).json()) as Todo[]
    expect(bobs.map((t) => t.title)).not.toContain('ada only')
    const adas = (await (
      await fetch(`${url}/todos`, bearer(token))
    ).json()) as Todo[]
    // Bob cannot touch Ada's to-dos.
    const response = await fetch(
      `${url}/todos/${adas[2]!.id}`,
      bearer(bob.access_token, { method: 'DELETE' }),
    )
    expect(response.status).toBe(404)
  })

  it('needs a valid access token', async () => {
    const { server, url } = await start()
    const response = await fetch(`${url}/todos`, json('POST', { title: 'x' }))
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="tokenflight-mock"',
    )
    expect(server.stats.unauthorized).toBe(1)
  })
})
