// The feed as an operator sees it: never shed under load, measured without skewing latencies,
// documented in the OpenAPI page.
import t from 'tap'
import { startAuth } from '../helper.js'
import { follow } from './follow.js'

t.test('under pressure the feed still answers: followers must hear of revocations', async (t) => {
  const auth = await startAuth(t, { PRESSURE_MAX_HEAP_USED_MB: '1' })
  // under-pressure samples the heap once a second: wait for the first sample.
  let ready = await auth.inject('/ready')
  for (let tries = 0; ready.statusCode !== 503 && tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    ready = await auth.inject('/ready')
  }
  t.equal(ready.statusCode, 503, 'the service sheds load')
  const feed = await follow(auth.url)
  t.equal(feed.status, 200)
  t.same(await feed.snapshot(), { revoked: [], synced: '' })
  feed.close()
})

t.test('metrics: open streams are counted, and a stream is not a latency', async (t) => {
  const auth = await startAuth(t)
  const metrics = async () => (await auth.inject('/metrics')).body
  const feeds = [await follow(auth.url), await follow(auth.url)]
  for (const feed of feeds) await feed.snapshot()
  t.match(await metrics(), /^auth_revocation_feed_followers 2$/m)
  t.match(await metrics(), /^auth_revocation_feed_last_id 0$/m)
  for (const feed of feeds) feed.close()
  let text = await metrics()
  for (let tries = 0; !/^auth_revocation_feed_followers 0$/m.test(text) && tries < 100; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    text = await metrics()
  }
  t.match(text, /^auth_revocation_feed_followers 0$/m, 'a follower that leaves is forgotten')
  t.notMatch(text, /http_request_duration_seconds_count\{[^}]*route="\/revocations"/, 'streams are not latencies')
})

t.test('the OpenAPI document describes the feed and its protocol', async (t) => {
  const auth = await startAuth(t)
  const operation = (await auth.inject('/docs/json')).json().paths['/revocations'].get
  t.match(operation.description, /Last-Event-ID[^]*event: revoked[^]*event: synced[^]*sid:<sid>/)
  t.ok(operation.responses['200'].content['text/event-stream'], 'a text/event-stream answer')
  t.ok(operation.responses['400'], 'and the 400')
  t.match(operation.parameters, [{ in: 'header', name: 'last-event-id' }])
})
