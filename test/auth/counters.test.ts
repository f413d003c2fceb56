// The throttling counters, in this process and in Redis, with one behaviour: counts that expire,
// that stop at a limit without adding, are taken back (and forgotten at zero), kept longer on
// demand, and forgotten by key or by prefix. In this process each kind has its own bound. And the
// address groups they count per.
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { addressGroup } from '../../services/auth/address-group.js'
import type { Counters } from '../../services/auth/counters.js'
import { localCounters } from '../../services/auth/local-counters.js'
import { redisCounters } from '../../services/auth/redis-counters.js'
import { redisUrl } from '../redis.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function behaves (t: Test, counters: Counters) {
  const [a, b] = [`user:${randomUUID()}`, `ip:${randomUUID()}`]
  t.same(await counters.peek([a, b]), [{ count: 0, ttl: 0 }, { count: 0, ttl: 0 }], 'nothing there')
  t.match(await counters.add(a, 60_000), { count: 1, added: true })
  const second = await counters.add(a, 60_000, 2)
  t.match(second, { count: 2, added: true })
  t.ok(second.ttl > 50_000 && second.ttl <= 60_000, 'a count lives its window from its first hit')
  const full = await counters.add(a, 60_000, 2)
  t.match(full, { count: 2, added: false }, 'at its limit, nothing is added')
  t.ok(full.ttl > 50_000, 'and the answer says how long it lasts')
  t.match(await counters.add(b, 60_000, 0), { count: 0, added: false })
  t.same(await counters.peek([b]), [{ count: 0, ttl: 0 }], 'a refused add leaves no entry')

  await counters.remove([a])
  t.match(await counters.peek([a]), [{ count: 1 }], 'taken back')
  await counters.remove([a, a, `user:never-${a}`])
  t.same(await counters.peek([a]), [{ count: 0, ttl: 0 }], 'forgotten at zero, never below')
  await counters.add(a, 60_000)
  await counters.extend([a, `user:never-${a}`], 600_000)
  t.ok((await counters.peek([a]))[0]!.ttl > 60_000, 'kept longer on demand')
  await counters.extend([a], 1000)
  t.ok((await counters.peek([a]))[0]!.ttl > 60_000, 'never shortened')
  await counters.delete([a])
  t.same(await counters.peek([a]), [{ count: 0, ttl: 0 }], 'forgotten')

  const short = `user:${randomUUID()}`
  await counters.add(short, 20)
  await sleep(60)
  t.equal((await counters.add(short, 20)).count, 1, 'an expired count starts again')

  const name = `device:${randomUUID()}*[?]\\\t`
  await Promise.all([`${name}one`, `${name}two`, `${name.slice(0, -1)}-other`].map((key) => counters.add(key, 60_000)))
  await counters.deleteMatching(name)
  t.match(await counters.peek([`${name}one`, `${name}two`, `${name.slice(0, -1)}-other`]), [{ count: 0 }, { count: 0 }, { count: 1 }],
    'forgotten by prefix, glob characters taken literally')
}

t.test('in this process', async (t) => behaves(t, localCounters()))

t.test('in Redis', async (t) => {
  const url = redisUrl(t)
  if (!url) return
  const redis = new Redis(url)
  t.teardown(() => redis.quit())
  await behaves(t, redisCounters(redis, `test-counters-${randomUUID()}:`))
})

t.test('in this process, each kind has its own bound: a flood of one never pushes out another', async (t) => {
  const counters = localCounters({ ip: 100, user: 100 })
  await counters.add('user:alice', 60_000)
  for (let n = 0; n < 1000; n++) await counters.add(`ip:10.0.${n >> 8}.${n & 255}`, 60_000)
  t.match(await counters.peek(['user:alice', 'ip:10.0.0.0', 'ip:10.0.3.231']), [{ count: 1 }, { count: 0 }, { count: 1 }],
    'the username is kept; the oldest addresses went first')
  for (let n = 0; n < 99; n++) await counters.add(`user:u${n}`, 60_000)
  await counters.peek(['user:alice'])
  await counters.add('user:one-more', 60_000)
  t.match(await counters.peek(['user:alice', 'user:u0']), [{ count: 1 }, { count: 0 }], 'within a kind, a count in use stays')
  await t.rejects(counters.add('other:x', 60_000), /No counter table for other:x/, 'a key of no kind is a mistake of ours')
})

t.test('address groups: IPv4 itself, IPv6 by /64, IPv4-mapped IPv6 as IPv4', async (t) => {
  t.equal(addressGroup('203.0.113.7'), '203.0.113.7')
  t.equal(addressGroup('::ffff:203.0.113.7'), '203.0.113.7')
  t.equal(addressGroup('2001:db8:1:2::1'), '2001:db8:1:2::/64')
  t.equal(addressGroup('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64')
  t.not(addressGroup('2001:db8:1:3::1'), addressGroup('2001:db8:1:2::1'))
  t.equal(addressGroup('not an address'), 'not an address', 'anything else (never from a socket) counts as itself')
})
