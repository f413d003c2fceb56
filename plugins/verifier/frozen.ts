// What a route is handed (the claims, or what formatUser made of them) is frozen all the way
// down: with the token cache on, the same object serves every request carrying that token, so a
// route that could change any part of it would change what the next request sees.
import { types } from 'node:util'

/** Objects whose state lives outside their properties, so freezing cannot protect it. */
const UNFREEZABLE: Array<[(value: object) => boolean, string]> = [
  [types.isMap, 'a Map'], [types.isWeakMap, 'a WeakMap'], [types.isSet, 'a Set'], [types.isWeakSet, 'a WeakSet'],
  [types.isDate, 'a Date'], [types.isAnyArrayBuffer, 'binary data'], [ArrayBuffer.isView, 'binary data']
]

class Unfreezable extends TypeError {
  readonly path: string[] = []
  constructor (readonly kind: string) { super(kind) }
}

function freezeAll (value: unknown, seen: Set<object>): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return
  seen.add(value)
  const kind = UNFREEZABLE.find(([is]) => is(value))
  if (kind) throw new Unfreezable(kind[1])
  for (const key of Reflect.ownKeys(value)) {
    try {
      freezeAll((value as Record<PropertyKey, unknown>)[key], seen)
    } catch (err) {
      if (err instanceof Unfreezable) err.path.unshift(String(key))
      throw err
    }
  }
  Object.freeze(value)
}

/**
 * Parsed JSON (the claims) frozen all the way down, on the path every request takes: it has no
 * cycle, and nothing in it but plain objects, arrays and primitives.
 */
export function deepFreezeJson<T> (value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const key in value) deepFreezeJson(value[key])
    Object.freeze(value)
  }
  return value
}

/**
 * `value` with every object in it frozen (each one once: cycles end). A Map, Set, Date or binary
 * data anywhere in it is a TypeError naming where (`what` and the path): its contents could still change.
 */
export function deepFreeze<T> (value: T, what: string): T {
  try {
    freezeAll(value, new Set())
  } catch (err) {
    if (!(err instanceof Unfreezable)) throw err
    throw new TypeError(`verifier plugin: ${[what, ...err.path].join('.')} is ${err.kind}, which cannot be frozen: give routes plain objects, arrays and primitives`)
  }
  return value
}
