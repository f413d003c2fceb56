import createError from '@fastify/error'

export const KeyFileInvalidError = createError<[string, string]>(
  'ISSUER_KEY_INVALID', 'Key file %s is unusable: %s', 500)

export const KeyRingMissingError = createError<[string]>(
  'ISSUER_KEY_RING_MISSING', 'No key ring in %s: run `npm run keys:generate` (or start with `npm run dev`)', 500)

export const NoActiveKeyError = createError<[string]>(
  'ISSUER_NO_ACTIVE_KEY', 'The key ring in %s has no active key', 500)

export const NextKeyTooYoungError = createError<[string, number, string]>(
  'ISSUER_NEXT_KEY_TOO_YOUNG',
  'The next key %s has been published for less than %d seconds, so a verifier may not have it cached yet: rotate after %s, or force it',
  409)

export const KeyNotFoundError = createError<[string]>(
  'ISSUER_KEY_NOT_FOUND', 'The key ring has no key %s', 404)

export const KeyNotRetiredError = createError<[string, string, string]>(
  'ISSUER_KEY_NOT_RETIRED', 'The key %s is %s, not retired: %s', 409)
