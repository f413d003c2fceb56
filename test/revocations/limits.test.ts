// The revocation feed's stream limits, as a flood of followers meets them: per client address (IPv6:
// per /64) and in total, past either 503 REVOCATION_FEED_BUSY with Retry-After; a slot comes back
// when its stream ends. Addresses come from X-Forwarded-For through a trusted proxy.
import t from 'tap'
import { startAuth } from '../helper.js'
import { follow } from './follow.js'

t.test('streams per address and in total', async (t) => {
  const auth = await startAuth(t, { TRUST_PROXY: '1', REVOCATION_FEED_MAX_STREAMS: '3', REVOCATION_FEED_MAX_STREAMS_PER_IP: '2' })
  const from = (address: string) => follow(auth.url, undefined, { 'x-forwarded-for': address })
  const a = [await from('198.51.100.1'), await from('198.51.100.1')]
  for (const feed of a) t.equal(feed.status, 200)
  await Promise.all(a.map((feed) => feed.snapshot()))

  const third = await from('198.51.100.1')
  t.equal(third.status, 503, 'a third stream from one address')
  t.equal(third.headers['retry-after'], '5')
  t.match(await third.json(), { statusCode: 503, code: 'REVOCATION_FEED_BUSY' })
  const sameNetwork = [await from('2001:db8:1:2::1'), await from('2001:db8:1:2::2'), await from('2001:db8:1:3::1')]
  t.same(sameNetwork.map((feed) => feed.status), [200, 503, 503], 'an IPv6 /64 is one address; then the total is reached')
  t.match(await sameNetwork[2]!.json(), { code: 'REVOCATION_FEED_BUSY' })

  a[0]!.close()
  let again = await from('198.51.100.9')
  for (let tries = 0; again.status !== 200 && tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    again = await from('198.51.100.9')
  }
  t.equal(again.status, 200, 'a stream that ends gives its slot back')
  for (const feed of [a[1]!, sameNetwork[0]!, again]) feed.close()
})

t.test('a Last-Event-ID refused takes no slot; a store that fails gives the slot back', async (t) => {
  const auth = await startAuth(t, { REVOCATION_FEED_MAX_STREAMS: '1' })
  const bad = await follow(auth.url, 'x')
  t.equal(bad.status, 400)
  await auth.store.db.schema.dropTable('revocations').execute()
  const failed = await follow(auth.url)
  t.equal(failed.status, 500)
  t.equal((await follow(auth.url)).status, 500, 'not 503: the failed follow released its slot')
})
