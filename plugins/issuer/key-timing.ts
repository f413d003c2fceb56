// How long a key must be published before it signs, and after it stops signing. These two
// windows are derived from the same numbers the service announces, so that a verifier that
// honours the JWKS `Cache-Control: max-age` can never miss a key that signs:
//
//   publish lag  = reloadInterval: the running service sees a new keyring.json within one poll.
//   minNextAge   = jwksMaxAge + reloadInterval. A next key is in the JWKS at most `reloadInterval`
//                  after it was created; a verifier that fetched the JWKS just before that may keep
//                  its copy for `jwksMaxAge`. Only after both has every honouring verifier seen it,
//                  so rotation refuses to promote a younger next key (unless forced).
//   retireWindow = accessTokenTtl + jwksMaxAge + reloadInterval + CLOCK_SKEW_MARGIN. The service
//                  may sign with a key up to `reloadInterval` after it was retired; its last token
//                  lives `accessTokenTtl`; a verifier may rely on a JWKS it cached `jwksMaxAge`
//                  earlier; clocks drift. Only then is the retired key removed from the JWKS.
//   rotationInterval (automatic rotation) must be >= minNextAge: the next key is created by the
//                  previous rotation, so this keeps scheduled rotations inside the rule.

/** Seconds added to the retire window for clock differences between issuer and verifiers. */
export const CLOCK_SKEW_MARGIN = 60

export interface KeyTimingInput {
  /** Access token lifetime, seconds. */
  accessTokenTtl: number
  /** JWKS Cache-Control max-age, seconds. */
  jwksMaxAge: number
  /** Seconds between two looks at keyring.json by the running service. */
  reloadInterval: number
}

export interface KeyTiming {
  /** Seconds a next key must have existed before it may be promoted to active. */
  minNextAge: number
  /** Seconds a retired key stays published after `retiredAt`. */
  retireWindow: number
}

/** The publication windows of the key ring, from the service's TTL, max-age and reload interval. */
export function keyTiming (input: KeyTimingInput): KeyTiming {
  const minNextAge = input.jwksMaxAge + input.reloadInterval
  return { minNextAge, retireWindow: input.accessTokenTtl + minNextAge + CLOCK_SKEW_MARGIN }
}
