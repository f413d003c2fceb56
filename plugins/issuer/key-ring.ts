// The issuer's key ring in memory: which key signs, which keys are published, and the JWKS body
// rendered once per change of the ring (never per request).
import { createHash } from 'node:crypto'
import { NoActiveKeyError } from './errors.js'
import type { LoadedKey } from './key-files.js'

export interface JwksDocument {
  /** Bytes, not a string: sent as is, with no per-request encoding and no `charset` added. */
  body: Buffer
  etag: string
}

function renderJwks (keys: LoadedKey[]): JwksDocument {
  // Active key first: verifiers that scan the set in order find the signing key soonest.
  const order = { active: 0, next: 1, retired: 2 }
  const published = [...keys].sort((a, b) => order[a.state] - order[b.state]).map((key) => key.publicJwk)
  const body = Buffer.from(JSON.stringify({ keys: published }))
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
  return { body, etag }
}

/** Holds the loaded keys; `source` names where they came from in errors. */
export function createKeyRing (initialKeys: LoadedKey[], source: string) {
  let keys: LoadedKey[] = []
  let active: LoadedKey
  let jwks: JwksDocument

  function replace (next: LoadedKey[]): void {
    const nextActive = next.find((key) => key.state === 'active')
    if (!nextActive) throw new NoActiveKeyError(source)
    keys = next
    active = nextActive
    jwks = renderJwks(next)
  }
  replace(initialKeys)

  return {
    /** The key that signs new tokens. */
    activeKey: (): LoadedKey => active,
    /** Every key the ring holds, in every state. */
    keys: (): readonly LoadedKey[] => keys,
    /** The JWKS body and its ETag, rendered when the ring last changed. */
    jwks: (): JwksDocument => jwks,
    replace
  }
}

export type KeyRing = ReturnType<typeof createKeyRing>
