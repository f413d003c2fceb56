// TRUST_PROXY: which X-Forwarded-For hops give `request.ip`, refused at start whenever it would let
// any client choose its own address (and so a fresh per-address login budget per guess): `true`,
// a hop count above MAX_PROXY_HOPS, or addresses/CIDRs that together cover every IPv4 or every
// IPv6 address (`0.0.0.0/1,128.0.0.0/1` is `0.0.0.0/0` in two halves).
import ipaddr from 'ipaddr.js'

export type TrustProxy = boolean | string | ((address: string, hop: number) => boolean)

/** No real chain of proxies is longer (a CDN, a load balancer, an ingress: 3). */
export const MAX_PROXY_HOPS = 5

const SAFE_FORMS = `set TRUST_PROXY to the number of proxies in front (1 to ${MAX_PROXY_HOPS}) or the proxies' own addresses/CIDRs ` +
  '(e.g. 10.0.0.0/8, or loopback, linklocal, uniquelocal)'
const ANY_CLIENT = 'lets every client choose its own address with X-Forwarded-For (and so escape the per-address login limits)'

const TRUST_ANY_REFUSED = `Invalid configuration: TRUST_PROXY=true ${ANY_CLIENT}; ${SAFE_FORMS}, ` +
  'or set PROXY_OVERWRITES_FORWARDED_FOR=true if only a proxy that overwrites that header can reach this service'

// The names proxy-addr accepts for well-known ranges.
const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']
}
const MAPPED = ipaddr.parseCIDR('::ffff:0:0/96')

interface Range { family: 4 | 6, start: bigint, end: bigint }

const toBigInt = (address: ipaddr.IPv4 | ipaddr.IPv6) => address.toByteArray().reduce((sum, byte) => (sum << 8n) | BigInt(byte), 0n)

/** `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `::1` … as a range of its family; an IPv4-mapped IPv6 range (proxy-addr matches IPv4 clients with it) as IPv4. */
function rangeOf (entry: string): Range {
  const [text = '', prefixText] = entry.split('/')
  if (!ipaddr.isValid(text) || (prefixText !== undefined && !/^\d+$/.test(prefixText) && !ipaddr.IPv4.isValidFourPartDecimal(prefixText))) {
    throw new Error(`Invalid configuration: TRUST_PROXY holds ${JSON.stringify(entry)}, which is not an address, a CIDR or a range name; ${SAFE_FORMS}`)
  }
  let address = ipaddr.parse(text)
  const bits = address.kind() === 'ipv4' ? 32 : 128
  let prefix = prefixText === undefined ? bits : /^\d+$/.test(prefixText) ? Number(prefixText) : ipaddr.IPv4.parse(prefixText).prefixLengthFromSubnetMask() ?? -1
  if (prefix < 0 || prefix > bits) throw new Error(`Invalid configuration: TRUST_PROXY holds ${JSON.stringify(entry)}, whose prefix is not one of its address family; ${SAFE_FORMS}`)
  if (address.kind() === 'ipv6' && prefix >= 96 && address.match(MAPPED)) {
    address = (address as ipaddr.IPv6).toIPv4Address()
    prefix -= 96
  }
  const width = BigInt((address.kind() === 'ipv4' ? 32 : 128) - prefix)
  const start = (toBigInt(address) >> width) << width
  return { family: address.kind() === 'ipv4' ? 4 : 6, start, end: start + (1n << width) - 1n }
}

/** Whether `ranges` of `family` leave no address of that family out. */
function coverAll (ranges: Range[], family: 4 | 6): boolean {
  const last = (1n << (family === 4 ? 32n : 128n)) - 1n
  let next = 0n
  for (const range of ranges.filter((each) => each.family === family).sort((a, b) => (a.start < b.start ? -1 : 1))) {
    if (range.start > next) return false
    if (range.end >= next) next = range.end + 1n
  }
  return next > last
}

function checkAddresses (text: string): string {
  const entries = text.split(',').map((entry) => entry.trim()).filter(Boolean)
  const ranges = entries.flatMap((entry) => NAMED_RANGES[entry] ?? [entry]).map(rangeOf)
  const family = coverAll(ranges, 4) ? 'IPv4' : coverAll(ranges, 6) ? 'IPv6' : undefined
  if (family) throw new Error(`Invalid configuration: TRUST_PROXY=${text} trusts every ${family} address as a proxy, which ${ANY_CLIENT}; ${SAFE_FORMS}`)
  return entries.join(',')
}

/** `false`, `2` (hops) or `10.0.0.1,10.0.0.0/8` → Fastify's `trustProxy`; `true` only with `overwritten` (see TRUST_ANY_REFUSED). */
export function parseTrustProxy (value: string, overwritten = false): TrustProxy {
  const text = value.trim()
  if (text === '' || text === 'false') return false
  if (text === 'true') {
    if (!overwritten) throw new Error(TRUST_ANY_REFUSED)
    return true
  }
  if (/^[0-9]+$/.test(text)) {
    const hops = Number(text)
    if (hops > MAX_PROXY_HOPS) throw new Error(`Invalid configuration: TRUST_PROXY=${text} trusts more proxies than any real chain has, which ${ANY_CLIENT}; ${SAFE_FORMS}`)
    // Fastify's types take no hop count: trust the first `hops` proxies, as proxy-addr would.
    return (address, hop) => hop < hops
  }
  return checkAddresses(text)
}
