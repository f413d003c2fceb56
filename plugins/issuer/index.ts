// The issuer plugin: loads the key ring, signs access tokens, publishes the JWKS, and follows the
// key store as it rotates (see key-store.ts, key-reloader.ts and key-timing.ts).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { createKeyReloader } from './key-reloader.js'
import { createKeyRing } from './key-ring.js'
import type { RotationResult } from './key-rotation.js'
import { createFileKeyStore, type KeyStore } from './key-store.js'
import { keyTiming } from './key-timing.js'
import { createTokenSigner } from './token-signer.js'
import { wellKnownRoutes } from './well-known-routes.js'

export const IssuerOptionsSchema = Type.Object({
  issuer: Type.String({ minLength: 1, description: 'The `iss` of every token; verifiers trust exactly this string' }),
  audience: Type.String({ minLength: 1 }),
  accessTokenTtl: Type.Integer({ minimum: 1, description: 'Access token lifetime in seconds' }),
  keysDir: Type.Optional(Type.String({ minLength: 1, description: 'Folder of the PEM key ring (unless keyStore is given)' })),
  jwksMaxAge: Type.Integer({ minimum: 0, default: 300, description: 'JWKS Cache-Control max-age in seconds' }),
  reloadInterval: Type.Number({ minimum: 0, default: 5, description: 'Seconds between looks at keyring.json; 0: never reload' }),
  rotationInterval: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Seconds an active key signs before automatic rotation' })),
  discoveryMetadata: Type.Optional(Type.Record(Type.String(), Type.Unknown(), {
    description: 'More members of the discovery documents (e.g. revocation_feed_endpoint, or *_supported lists); they never replace issuer, jwks_uri or token_endpoint'
  }))
})
export type IssuerOptions = Static<typeof IssuerOptionsSchema>
export type IssuerPluginOptions = Omit<IssuerOptions, 'jwksMaxAge' | 'reloadInterval'> &
  Partial<Pick<IssuerOptions, 'jwksMaxAge' | 'reloadInterval'>> & {
    /** Any other backend of the key ring (instead of keysDir). */
    keyStore?: KeyStore
    /** Called after each automatic rotation, with what it did (e.g. to record it in an audit trail). */
    onRotated?: (result: RotationResult) => Promise<void> | void
  }

function optionError (name: string, message: string): TypeError {
  return new TypeError(`issuer plugin: option ${name}: ${message}`)
}

function checkOptions (pluginOptions: IssuerPluginOptions): { options: IssuerOptions, keyStore: KeyStore } {
  const keyStore = pluginOptions?.keyStore
  // A key store and onRotated are functions, which structuredClone refuses; they are checked on their own.
  const plain = pluginOptions && { ...pluginOptions, keyStore: undefined, onRotated: undefined }
  const onRotated = pluginOptions?.onRotated
  if (onRotated !== undefined && typeof onRotated !== 'function') throw optionError('onRotated', 'must be a function')
  const withDefaults = Value.Default(IssuerOptionsSchema, structuredClone(plain))
  const error = Value.Errors(IssuerOptionsSchema, withDefaults).First()
  if (error) throw optionError(error.path.slice(1) || '(root)', error.message)
  const options = withDefaults as IssuerOptions
  if ((keyStore === undefined) === (options.keysDir === undefined)) throw optionError('keysDir', 'give exactly one of keysDir and keyStore')
  return { options, keyStore: keyStore ?? createFileKeyStore(options.keysDir as string) }
}

/** Automatic rotation needs polling, and must leave each next key published long enough. */
function checkRotation (options: IssuerOptions, minNextAge: number): void {
  if (options.rotationInterval === undefined) return
  if (options.reloadInterval === 0) throw optionError('rotationInterval', 'needs reloadInterval > 0')
  if (options.rotationInterval < minNextAge) {
    throw optionError('rotationInterval', `must be at least jwksMaxAge + reloadInterval (${minNextAge} s)`)
  }
}

/** Builds the issuer: key ring from `keysDir` or `keyStore`, a token signer, the well-known routes, reloading. */
export async function issuerPlugin (fastify: FastifyInstance, pluginOptions: IssuerPluginOptions) {
  const { options, keyStore } = checkOptions(pluginOptions)
  const timing = keyTiming(options)
  checkRotation(options, timing.minNextAge)
  const loaded = await keyStore.load()
  const keyRing = createKeyRing(loaded.keys, keyStore.describe)
  const signer = createTokenSigner(keyRing, options)
  const onRotated = pluginOptions.onRotated
  const reloader = createKeyReloader({ ...options, keyStore, keyRing, loadedVersion: loaded.version, log: fastify.log, timing, ...(onRotated && { onRotated }) })
  fastify.decorate('issuer', {
    keyRing, signAccessToken: signer.sign, signIdToken: signer.signIdToken, reloadKeys: reloader.reload, rotateKeys: reloader.rotate, retireKey: reloader.retire, keyTiming: timing
  })
  await fastify.register(wellKnownRoutes, { ...options, keyRing })
  fastify.addHook('onReady', async () => reloader.start())
  fastify.addHook('onClose', async () => reloader.stop())
}

declare module 'fastify' {
  interface FastifyInstance {
    issuer: {
      keyRing: ReturnType<typeof createKeyRing>
      signAccessToken: ReturnType<typeof createTokenSigner>['sign']
      signIdToken: ReturnType<typeof createTokenSigner>['signIdToken']
      /** Reads the key store now; true when the ring changed. Polling calls it too. */
      reloadKeys: ReturnType<typeof createKeyReloader>['reload']
      /** Rotates the store's ring (refused while the next key is too young, unless forced), then reloads. */
      rotateKeys: ReturnType<typeof createKeyReloader>['rotate']
      /** Removes a retired key from the store's ring and the JWKS now (the active and next keys are refused), then reloads. */
      retireKey: ReturnType<typeof createKeyReloader>['retire']
      keyTiming: ReturnType<typeof keyTiming>
    }
  }
}

export default fp(issuerPlugin, { name: 'issuer', fastify: '5.x' })
export type { TokenSubject, AccessTokenClaims } from '../shared/claims.js'
export type { KeyStore, LoadedRing } from './key-store.js'
