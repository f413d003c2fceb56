// How many revocation feed streams one replica holds open: in total, and per client address group
// (an IPv4 address, an IPv6 /64, as login throttling counts). Each stream may hold up to 4 MiB for
// a follower that stopped reading, so the total bounds that memory; the per-address bound keeps one
// client from taking every slot.
import { addressGroup } from './address-group.js'

/** The defaults of REVOCATION_FEED_MAX_STREAMS and REVOCATION_FEED_MAX_STREAMS_PER_IP. */
export const FEED_STREAM_LIMITS = { maxStreams: 200, maxStreamsPerAddress: 20 }

export interface StreamLimits {
  maxStreams: number
  maxStreamsPerAddress: number
}

export function createStreamLimiter (limits: StreamLimits) {
  const perAddress = new Map<string, number>()
  let total = 0
  return {
    /** Takes a slot for a stream from `ip`; returns its release (call it once, when the stream ends), or undefined when either bound is reached. */
    take (ip: string): (() => void) | undefined {
      const group = addressGroup(ip)
      const held = perAddress.get(group) ?? 0
      if (total >= limits.maxStreams || held >= limits.maxStreamsPerAddress) return undefined
      total++
      perAddress.set(group, held + 1)
      return () => {
        total--
        const left = perAddress.get(group)! - 1
        if (left === 0) perAddress.delete(group)
        else perAddress.set(group, left)
      }
    }
  }
}
