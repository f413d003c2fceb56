// The verifier's parts on their own where HTTP cannot reach a case: which endpoints a discovery
// document may name, the request guard's deadline before a connection exists, and the bounds of
// the revocation set (expiry, entries, lifetime).
import t from 'tap'
import { checkedEndpoint } from '../../plugins/verifier/discovery.js'
import { guard, KeyRequestError } from '../../plugins/verifier/key-agent.js'
import { createRevocationSet } from '../../plugins/verifier/revocation-set.js'
import { sleep } from './helpers.js'

t.test('a discovered endpoint: https under an https issuer, on its origin unless allowed', async (t) => {
  const rules = { allowedOrigins: ['https://keys.example'] }
  t.equal(checkedEndpoint('https://auth.example', 'jwks_uri', 'https://auth.example/jwks', rules), 'https://auth.example/jwks')
  t.equal(checkedEndpoint('https://auth.example', 'jwks_uri', 'https://keys.example/jwks', rules), 'https://keys.example/jwks')
  t.equal(checkedEndpoint('http://127.0.0.1:3000', 'jwks_uri', 'http://127.0.0.1:3000/jwks', rules), 'http://127.0.0.1:3000/jwks')
  t.throws(() => checkedEndpoint('https://auth.example', 'jwks_uri', 'http://auth.example/jwks', rules), /must be https under an https issuer/)
  t.throws(() => checkedEndpoint('http://auth.example', 'jwks_uri', 'ftp://auth.example/jwks', rules), /must be https or http/)
  t.throws(() => checkedEndpoint('https://auth.example', 'jwks_uri', 'https://evil.example/jwks', rules), /not on the issuer's origin/)
  t.throws(() => checkedEndpoint('https://auth.example', 'revocation_feed_endpoint', 42, rules), /no URL in revocation_feed_endpoint/)
})

t.test('a deadline that passes before the connection is made aborts it as soon as it is', async (t) => {
  const aborted: Error[] = []
  let connect: (() => void) | undefined
  const handler = { onConnect: () => {}, onError: () => {} }
  const dispatch = guard({ deadline: 20, timeout: 20, maxBytes: 10, contentType: /json/ })((options, wrapped) => {
    connect = () => wrapped.onConnect!((err) => { aborted.push(err!) })
    return true
  })
  dispatch({ origin: 'http://127.0.0.1:9', path: '/jwks', method: 'GET' }, handler)
  await sleep(40)
  connect!()
  t.equal(aborted.length, 1)
  t.ok(aborted[0] instanceof KeyRequestError && aborted[0].timedOut)
})

t.test('a revocation leaves the set once the tokens it kills have expired; the set holds at most maxEntries, each at most maxLifetime', async (t) => {
  const set = createRevocationSet({ clockTolerance: 0, maxEntries: 10, maxLifetime: 3_600_000 })
  const capped = createRevocationSet({ clockTolerance: 0, maxEntries: 2, maxLifetime: 1000 })
  t.teardown(() => { set.close(); capped.close() })
  const now = Math.floor(Date.now() / 1000)
  set.add('expired', now - 10)
  t.equal(set.size, 0, 'one already expired is not kept')
  set.add('soon', now + 1)
  set.add('later', now + 600)
  set.add('later', now + 60) // the later exp of the two stays
  t.equal(set.size, 2)
  const years = now + 31 * 365 * 24 * 3600
  t.equal(capped.add('a', years), true)
  t.equal(capped.add('b', years), true)
  t.equal(capped.add('c', now + 60), false, 'full')
  t.equal(capped.add('a', years + 1), true, 'one it holds may still be updated')
  t.equal(capped.add('gone', now - 10), true, 'an expired one takes no room, and is not refused')
  t.equal(capped.size, 2)
  await sleep(2100)
  set.sweep()
  capped.sweep()
  t.equal(set.size, 1)
  t.equal(set.revokes({ jti: 'x', hashes: ['later'] }), true)
  t.equal(set.revokes({ jti: 'x', hashes: ['soon'] }), false)
  t.equal(capped.size, 0, 'the entries 31 years ahead left after maxLifetime')
})
