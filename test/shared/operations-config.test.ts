// TRUST_PROXY and the HTTP timeouts as an operator sets them: what each value becomes, and the
// values refused at start with one line naming the variable.
import t from 'tap'
import { loadEnv } from '../../services/shared/config.js'
import { OperationsEnvSchema, operationsOptions } from '../../services/shared/operations-config.js'

const options = (env: Record<string, string>) => operationsOptions(loadEnv(OperationsEnvSchema, env))

t.test('TRUST_PROXY: true only with PROXY_OVERWRITES_FORWARDED_FOR=true; hops and addresses as before', async (t) => {
  t.throws(() => options({ TRUST_PROXY: 'true' }), { message: /^Invalid configuration: TRUST_PROXY=true .*PROXY_OVERWRITES_FORWARDED_FOR=true/ })
  t.throws(() => options({ TRUST_PROXY: ' true ', PROXY_OVERWRITES_FORWARDED_FOR: 'false' }), /TRUST_PROXY=true/)
  t.equal(options({ TRUST_PROXY: 'true', PROXY_OVERWRITES_FORWARDED_FOR: 'true' }).trustProxy, true)
  t.equal(options({}).trustProxy, false)
  t.equal(options({ TRUST_PROXY: '10.0.0.0/8,192.168.1.1' }).trustProxy, '10.0.0.0/8,192.168.1.1')
  const hops = options({ TRUST_PROXY: '2' }).trustProxy as (address: string, hop: number) => boolean
  t.same([hops('10.0.0.1', 0), hops('10.0.0.1', 1), hops('10.0.0.1', 2)], [true, true, false])
  t.throws(() => options({ PROXY_OVERWRITES_FORWARDED_FOR: 'maybe' }), /PROXY_OVERWRITES_FORWARDED_FOR/)
})

t.test('TRUST_PROXY: address sets that cover every IPv4 or IPv6 address, and hop counts above 5, are refused naming the safe forms', async (t) => {
  const refused = [
    '0.0.0.0/0', '0.0.0.0/1,128.0.0.0/1', '0.0.0.0/1, 128.0.0.0/2,192.0.0.0/2', '::/0', '::/1,8000::/1',
    '0.0.0.0/1,128.0.0.0/1,::/1,8000::/1', '10.0.0.1, 0.0.0.0/0.0.0.0', '::ffff:0:0/96', '::ffff:0.0.0.0/97,::ffff:128.0.0.0/97'
  ]
  for (const value of refused) {
    t.throws(() => options({ TRUST_PROXY: value }), {
      message: /^Invalid configuration: TRUST_PROXY=.* trusts every IPv[46] address as a proxy, which lets every client choose its own address with X-Forwarded-For .*; set TRUST_PROXY to the number of proxies in front \(1 to 5\) or the proxies' own addresses\/CIDRs/
    }, value)
  }
  for (const value of ['6', '1000']) {
    t.throws(() => options({ TRUST_PROXY: value }), { message: /^Invalid configuration: TRUST_PROXY=\d+ trusts more proxies than any real chain has.*1 to 5/ }, value)
  }
  for (const value of ['10.0.0.0/33', 'proxy.internal', '10.0.0.0/255.0.255.0', '::1/129', '10.0.0.0/x']) {
    t.throws(() => options({ TRUST_PROXY: value }), { message: /^Invalid configuration: TRUST_PROXY holds ".*", (which is not an address|whose prefix is not)/ }, value)
  }
  const allowed = ['5', '0', '0.0.0.0/1', '10.0.0.0/8,192.168.0.0/255.255.0.0', 'loopback, linklocal,uniquelocal', '::/1,8000::/2', '2001:db8::/32,::ffff:10.0.0.0/104']
  for (const value of allowed) t.doesNotThrow(() => options({ TRUST_PROXY: value }), value)
  t.equal(options({ TRUST_PROXY: ' loopback, 10.0.0.0/8 ' }).trustProxy, 'loopback,10.0.0.0/8', 'as proxy-addr reads it')
})

t.test('HTTP timeouts: defaults a proxy in front does not trip over; 0 and headers above the request refused', async (t) => {
  t.same(options({}).http, { headersTimeout: 15_000, requestTimeout: 30_000, keepAliveTimeout: 72_000 })
  t.same(options({ HTTP_HEADERS_TIMEOUT: '2s', HTTP_REQUEST_TIMEOUT: '1m', HTTP_KEEP_ALIVE_TIMEOUT: '90' }).http,
    { headersTimeout: 2000, requestTimeout: 60_000, keepAliveTimeout: 90_000 })
  for (const name of ['HTTP_HEADERS_TIMEOUT', 'HTTP_REQUEST_TIMEOUT', 'HTTP_KEEP_ALIVE_TIMEOUT']) {
    t.throws(() => options({ [name]: '0' }), { message: /^Invalid configuration: .*must be at least 1s/ }, `${name}=0`)
  }
  t.throws(() => options({ HTTP_HEADERS_TIMEOUT: '1m', HTTP_REQUEST_TIMEOUT: '30s' }),
    { message: 'Invalid configuration: HTTP_HEADERS_TIMEOUT must not exceed HTTP_REQUEST_TIMEOUT' })
  t.throws(() => options({ HTTP_REQUEST_TIMEOUT: 'soon' }), /HTTP_REQUEST_TIMEOUT/)
})
