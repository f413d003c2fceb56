// How long an answer may be cached, from its Cache-Control header (RFC 9111 §5.2.2).

/** Seconds from `max-age` (0 for no-store or no-cache), undefined when the header says neither. */
export function maxAgeOf (cacheControl: string | null): number | undefined {
  if (cacheControl === null) return undefined
  if (/(^|,)\s*(no-store|no-cache)\s*(,|$)/i.test(cacheControl)) return 0
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl)
  return match ? Number(match[1]) : undefined
}
