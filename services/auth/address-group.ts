// What login throttling counts per: one IPv4 address, or one IPv6 /64. A /64 is the smallest
// block a network gives a host or a customer (RFC 4291 interface ids, RFC 6177 end sites get a
// /48 to a /64), so a single client holds 2^64 addresses: counted one by one, it would have 2^64
// budgets. A /64 can be one household or office; a /48 would put a whole customer's sites, or
// strangers on one ISP, behind one count.
import ipaddr from 'ipaddr.js'

export const IPV6_PREFIX_LENGTH = 64

/** The counting key of a client address (`request.ip`): IPv4 as is (also when mapped into IPv6), IPv6 as its /64. */
export function addressGroup (ip: string): string {
  if (!ipaddr.isValid(ip)) return ip
  const address = ipaddr.process(ip)
  if (address.kind() === 'ipv4') return address.toString()
  const network = (address as ipaddr.IPv6).parts.slice(0, IPV6_PREFIX_LENGTH / 16).map((part) => part.toString(16))
  return `${network.join(':')}::/${IPV6_PREFIX_LENGTH}`
}
