// Password hashing: argon2id at OWASP's parameters, on worker threads that yield to the event loop.
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { createPasswordChecker, hashPassword } from '../../services/auth/passwords.js'

/** The nice value of every thread of this process (Linux: field 19 of /proc/self/task/<tid>/stat). */
function threadNiceValues (): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
  })
}

t.test('hash and check, and an unknown user costs a check against a decoy', async (t) => {
  const hash = await hashPassword('correct horse battery')
  t.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
  const passwordMatches = await createPasswordChecker()
  t.equal(await passwordMatches(hash, 'correct horse battery'), true)
  t.equal(await passwordMatches(hash, 'wrong'), false)
  t.equal(await passwordMatches(undefined, 'correct horse battery'), false, 'no user: false, after the same work')
})

t.test('the hashing runs on threads at a lower priority than the event loop', { skip: process.platform !== 'linux' && 'Linux only' }, async (t) => {
  await hashPassword('a password')
  const nice = threadNiceValues()
  t.equal(nice[0], 0, 'the main thread keeps its priority')
  t.ok(nice.includes(10), `a thread runs at nice 10 (threads: ${nice.join(',')})`)
})
