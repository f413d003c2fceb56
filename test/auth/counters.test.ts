// The throttling counters, in this process and in Redis, with one behaviour: counts that expire,
// are taken back but never below zero, are kept longer on demand, and are forgotten. And the
// address groups they count per.
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { addressGroup } from '../../services/auth/address-group.js'
import { localCounters, redisCounters, type Counters } from '../../services/auth/counters.js'
import { redisUrl } from '../redis.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function behaves (t: Test, counters: Counters) {
  const [a, b] = [randomUUID(), randomUUID()]
  t.match(await counters.add([a, b], 60_000), [{ count: 1 }, { count: 1 }])
  const [second] = await counters.add([a], 60_000)
  t.equal(second!.count, 2)
  t.ok(second!.ttl > 50_000 && second!.ttl <= 60_000, 'a count lives its window from its first hit')

  await counters.remove([a, a, a, `never-${a}`])
  t.equal((await counters.add([a], 60_000))[0]!.count, 1, 'taken back, never below zero')
  await counters.extend([a, `never-${a}`], 600_000)
  t.ok((await counters.add([a], 60_000))[0]!.ttl > 60_000, 'kept longer on demand')
  await counters.extend([a], 1000)
  t.ok((await counters.add([a], 60_000))[0]!.ttl > 60_000, 'never shortened')
  await counters.delete(a)
  t.equal((await counters.add([a], 60_000))[0]!.count, 1, 'forgotten')

  await counters.add([b], 60_000)
  const short = randomUUID()
  await counters.add([short], 20)
  await sleep(60)
  t.equal((await counters.add([short], 20))[0]!.count, 1, 'an expired count starts again')
  await counters.remove([short])
}

t.test('in this process', async (t) => behaves(t, localCounters()))

t.test('in Redis', async (t) => {
  const url = redisUrl(t)
  if (!url) return
  const redis = new Redis(url)
  t.teardown(() => redis.quit())
  await behaves(t, redisCounters(redis, `test-counters-${randomUUID()}:`))
})

t.test('address groups: IPv4 itself, IPv6 by /64, IPv4-mapped IPv6 as IPv4', async (t) => {
  t.equal(addressGroup('203.0.113.7'), '203.0.113.7')
  t.equal(addressGroup('::ffff:203.0.113.7'), '203.0.113.7')
  t.equal(addressGroup('2001:db8:1:2::1'), '2001:db8:1:2::/64')
  t.equal(addressGroup('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64')
  t.not(addressGroup('2001:db8:1:3::1'), addressGroup('2001:db8:1:2::1'))
  t.equal(addressGroup('not an address'), 'not an address', 'anything else (never from a socket) counts as itself')
})
