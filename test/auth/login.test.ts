// POST /auth/login as a client sees it: one body for every credential failure, strict 400s,
// throttling with Retry-After, and argon2id hashes at OWASP's parameters in the table.
import t from 'tap'
import { addUser, buildAuth, captureLogs } from '../helper.js'

const post = (app: Awaited<ReturnType<typeof buildAuth>>, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) })

t.test('a good login answers a bearer token', async (t) => {
  const app = await buildAuth(t)
  await addUser(app, 'alice', 'correct horse battery')
  const response = await post(app, { username: 'alice', password: 'correct horse battery' })
  t.equal(response.statusCode, 200)
  t.match(response.json(), { access_token: /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/, token_type: 'Bearer', expires_in: 900 })
})

t.test('a good login sets the device cookie: signed, HttpOnly, SameSite=Strict, long-lived; __Host- and Secure over https', async (t) => {
  for (const [issuer, name, secure] of [['http://localhost:3000', /^ssot-device-[\w-]{16}$/, false], ['https://auth.example', /^__Host-ssot-device-[\w-]{16}$/, true]] as const) {
    const app = await buildAuth(t, { ISSUER_URL: issuer, LOGIN_DEVICE_COOKIE_TTL: '30d' })
    await addUser(app, 'alice', 'correct horse battery')
    const response = await post(app, { username: 'alice', password: 'correct horse battery' })
    t.equal(response.cookies.length, 1)
    t.match(response.cookies[0], { name, value: /^[\w-]{16}\.[\w-]{22}\.[\w+/]{43}$/, path: '/', httpOnly: true, sameSite: 'Strict', maxAge: 30 * 86400 })
    t.equal(response.cookies[0]!.secure, secure || undefined, `Secure: ${secure}`)
    t.notMatch(response.cookies[0]!.name, /alice/, 'the name does not tell the username')
    const again = await post(app, { username: 'alice', password: 'correct horse battery' }, { cookie: `${response.cookies[0]!.name}=${response.cookies[0]!.value}` })
    t.not(again.cookies[0]!.value, response.cookies[0]!.value, 'renewed at each login')
    const failed = await post(app, { username: 'alice', password: 'wrong' })
    t.same(failed.cookies, [], 'none for a failure')
  }
})

t.test('without COOKIE_SECRET, the app says its cookies last as long as the process', async (t) => {
  const { lines, logger } = captureLogs('warn')
  await buildAuth(t, {}, { logger })
  t.ok(lines.some((line) => /COOKIE_SECRET is not set/.test(line.msg)))
})

t.test('usernames are matched in one normalised form', async (t) => {
  const app = await buildAuth(t)
  await addUser(app, 'Alice', 'correct horse battery')
  const response = await post(app, { username: '  ALICE ', password: 'correct horse battery' })
  t.equal(response.statusCode, 200)
})

t.test('unknown user, wrong password and disabled user get the identical 401', async (t) => {
  const app = await buildAuth(t)
  await addUser(app, 'alice', 'correct horse battery')
  await addUser(app, 'dave', 'correct horse battery')
  await app.store.db.updateTable('users').set({ disabled: 1 }).where('username', '=', 'dave').execute()

  const wrongPassword = await post(app, { username: 'alice', password: 'wrong horse battery' })
  const unknownUser = await post(app, { username: 'nobody', password: 'correct horse battery' })
  const disabledUser = await post(app, { username: 'dave', password: 'correct horse battery' })
  for (const response of [wrongPassword, unknownUser, disabledUser]) {
    t.equal(response.statusCode, 401)
    t.same(response.json(), { statusCode: 401, code: 'AUTH_INVALID_CREDENTIALS', error: 'Unauthorized', message: 'invalid credentials' })
  }
  t.equal(wrongPassword.body, unknownUser.body)
  t.same(Object.keys(wrongPassword.headers).sort(), Object.keys(unknownUser.headers).sort())
})

t.test('bad bodies are 400 with a stable code, never coerced or stripped', async (t) => {
  const app = await buildAuth(t)
  await addUser(app, 'alice', 'true')
  const bodies: unknown[] = [
    { username: 'alice', password: true },
    { username: 'alice', password: 1234 },
    { username: 'alice', password: ['true'] },
    { username: 'alice', password: { $ne: '' } },
    { username: ['alice'], password: 'true' },
    { username: 'alice', password: 'true', admin: true },
    { username: 'alice' },
    { password: 'true' },
    { username: '', password: 'true' },
    { username: 'a'.repeat(65), password: 'true' },
    { username: '   ', password: 'true' },
    { username: 'al\u0000ice', password: 'true' },
    { username: 'alice\n', password: 'true' },
    { username: 'alice', password: 'p'.repeat(257) },
    ['alice', 'true'],
    null
  ]
  for (const body of bodies) {
    const response = await post(app, body)
    t.equal(response.statusCode, 400, JSON.stringify(body))
    t.equal(response.json().code, 'FST_ERR_VALIDATION')
  }
  const notJson = await app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"username":' })
  t.equal(notJson.statusCode, 400)
  t.equal(notJson.json().code, 'FST_ERR_CTP_INVALID_JSON_BODY')
  const form = await app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/xml' }, payload: '<login/>' })
  t.equal(form.statusCode, 415)
  t.equal(form.json().code, 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
})

t.test('throttled per username from every address together; other usernames are not', async (t) => {
  const app = await buildAuth(t, { LOGIN_MAX_PER_USERNAME: '3', LOGIN_MAX_PER_IP: '100' })
  const from = (remoteAddress: string, username: string) => app.inject({
    method: 'POST', url: '/auth/login', remoteAddress, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ username, password: 'guess' })
  })
  for (let attempt = 1; attempt <= 3; attempt++) t.equal((await from(`10.9.9.${attempt}`, 'alice')).statusCode, 401)
  const limited = await from('10.9.9.9', ' ALICE')
  t.equal(limited.statusCode, 429, 'the username is normalised before counting')
  t.equal(limited.json().code, 'AUTH_RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when to come back')
  t.equal((await from('10.9.9.9', 'bob')).statusCode, 401, 'another username from that address is not refused')
})

t.test('a store failure is not a failed login: the attempt is taken back', async (t) => {
  const app = await buildAuth(t, { LOGIN_MAX_PER_USERNAME: '1' })
  await app.store.db.schema.dropTable('users').execute()
  for (let attempt = 1; attempt <= 2; attempt++) {
    const response = await post(app, { username: 'alice', password: 'guess' })
    t.equal(response.statusCode, 500, 'not 429: the first attempt was not counted')
    t.equal(response.json().code, 'INTERNAL_SERVER_ERROR')
  }
})

t.test('a store failure with a device cookie is taken back too: the device\'s budget is untouched', async (t) => {
  const app = await buildAuth(t, { LOGIN_MAX_PER_DEVICE: '1' })
  await addUser(app, 'alice', 'correct horse battery')
  const [device] = (await post(app, { username: 'alice', password: 'correct horse battery' })).cookies
  await app.store.db.schema.dropTable('users').execute()
  for (let attempt = 1; attempt <= 2; attempt++) {
    const response = await post(app, { username: 'alice', password: 'guess' }, { cookie: `${device!.name}=${device!.value}` })
    t.equal(response.statusCode, 500, 'not 429: the device\'s one attempt was not spent')
  }
})

t.test('throttled per client address, whatever the username', async (t) => {
  const app = await buildAuth(t, { LOGIN_MAX_PER_IP: '3', LOGIN_MAX_PER_USERNAME: '100' })
  for (const username of ['u1', 'u2', 'u3']) {
    t.equal((await post(app, { username, password: 'guess' })).statusCode, 401)
  }
  const limited = await post(app, { username: 'u4', password: 'guess' })
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'AUTH_RATE_LIMITED')
  t.ok(limited.headers['retry-after'])
})

t.test('passwords are stored as argon2id with m=19456 KiB, t=2, p=1', async (t) => {
  const app = await buildAuth(t)
  await addUser(app, 'alice', 'correct horse battery')
  const row = await app.store.db.selectFrom('users').selectAll().where('username', '=', 'alice').executeTakeFirstOrThrow()
  t.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/)
  t.notMatch(row.password_hash, /correct horse battery/)
})

t.test('concurrent logins queue for the hashing cores and all succeed', async (t) => {
  // A login in flight counts until it succeeds (so a parallel burst cannot slip under a limit): raise the limit.
  const app = await buildAuth(t, { LOGIN_MAX_PER_USERNAME: '100' })
  await addUser(app, 'alice', 'correct horse battery')
  const answers = await Promise.all(Array.from({ length: 12 }, () => post(app, { username: 'alice', password: 'correct horse battery' })))
  t.same(answers.map((answer) => answer.statusCode), Array(12).fill(200))
})
