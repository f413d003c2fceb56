// Route guards: a scope (RFC 6750 §3.1 insufficient_scope, 403) or a role. They read the claims
// the verifier checked, never `request.user` (which formatUser or decoratorName may make anything
// else), and verify the request first if nothing did yet. The plugin's onError hook adds the
// WWW-Authenticate challenge naming what is needed.
import type { FastifyRequest } from 'fastify'
import { insufficientScope } from './errors.js'
import type { VerifiedClaims } from './token-rules.js'

type Guard = (request: FastifyRequest) => Promise<void>
type ClaimsOf = (request: FastifyRequest) => VerifiedClaims | Promise<VerifiedClaims>

/** Scopes: every one of `needed`; roles: any one. Else 403 naming what is needed. */
function guard (reason: 'insufficient_scope' | 'insufficient_role', needed: string[], claimsOf: ClaimsOf, granted: (claims: VerifiedClaims) => readonly string[]): Guard {
  if (needed.length === 0 || needed.some((name) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(name))) {
    throw new TypeError(`verifier: ${reason === 'insufficient_scope' ? 'requireScope' : 'requireRole'} needs names of printable characters without spaces, quotes or backslashes`)
  }
  return async function checkGrant (request) {
    const have = granted(await claimsOf(request))
    const allowed = reason === 'insufficient_scope' ? needed.every((name) => have.includes(name)) : needed.some((name) => have.includes(name))
    if (!allowed) throw insufficientScope(reason, needed)
  }
}

export function scopeGuards (claimsOf: ClaimsOf) {
  return {
    /** preHandler: the token's `scope` must hold every one of `scopes`. */
    requireScope: (...scopes: string[]): Guard => guard('insufficient_scope', scopes, claimsOf, (claims) => claims.scope.split(' ')),
    /** preHandler: the token's `roles` must hold at least one of `roles`. */
    requireRole: (...roles: string[]): Guard => guard('insufficient_role', roles, claimsOf, (claims) => claims.roles ?? [])
  }
}
