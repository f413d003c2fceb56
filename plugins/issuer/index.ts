// The issuer plugin: loads the key ring, signs access tokens, publishes the JWKS, and follows the
// key files as they rotate (see key-reloader.ts and key-timing.ts).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { loadKeysFromManifest, readManifestText } from './key-files.js'
import { createKeyReloader } from './key-reloader.js'
import { createKeyRing } from './key-ring.js'
import { keyTiming } from './key-timing.js'
import { createTokenSigner } from './token-signer.js'
import { wellKnownRoutes } from './well-known-routes.js'

export const IssuerOptionsSchema = Type.Object({
  issuer: Type.String({ minLength: 1, description: 'The `iss` of every token; verifiers trust exactly this string' }),
  audience: Type.String({ minLength: 1 }),
  accessTokenTtl: Type.Integer({ minimum: 1, description: 'Access token lifetime in seconds' }),
  keysDir: Type.String({ minLength: 1 }),
  jwksMaxAge: Type.Integer({ minimum: 0, default: 300, description: 'JWKS Cache-Control max-age in seconds' }),
  reloadInterval: Type.Number({ minimum: 0, default: 5, description: 'Seconds between looks at keyring.json; 0: never reload' }),
  rotationInterval: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Seconds an active key signs before automatic rotation' }))
})
export type IssuerOptions = Static<typeof IssuerOptionsSchema>
export type IssuerPluginOptions = Omit<IssuerOptions, 'jwksMaxAge' | 'reloadInterval'> &
  Partial<Pick<IssuerOptions, 'jwksMaxAge' | 'reloadInterval'>>

function optionError (name: string, message: string): TypeError {
  return new TypeError(`issuer plugin: option ${name}: ${message}`)
}

function checkOptions (options: IssuerPluginOptions): IssuerOptions {
  const withDefaults = Value.Default(IssuerOptionsSchema, structuredClone(options))
  const error = Value.Errors(IssuerOptionsSchema, withDefaults).First()
  if (error) throw optionError(error.path.slice(1) || '(root)', error.message)
  return withDefaults as IssuerOptions
}

/** Automatic rotation needs polling, and must leave each next key published long enough. */
function checkRotation (options: IssuerOptions, minNextAge: number): void {
  if (options.rotationInterval === undefined) return
  if (options.reloadInterval === 0) throw optionError('rotationInterval', 'needs reloadInterval > 0')
  if (options.rotationInterval < minNextAge) {
    throw optionError('rotationInterval', `must be at least jwksMaxAge + reloadInterval (${minNextAge} s)`)
  }
}

/** Builds the issuer: key ring from `keysDir`, a token signer, the well-known routes, reloading. */
export async function issuerPlugin (fastify: FastifyInstance, pluginOptions: IssuerPluginOptions) {
  const options = checkOptions(pluginOptions)
  const timing = keyTiming(options)
  checkRotation(options, timing.minNextAge)
  const manifest = await readManifestText(options.keysDir)
  const keyRing = createKeyRing(await loadKeysFromManifest(options.keysDir, manifest), options.keysDir)
  const signer = createTokenSigner(keyRing, options)
  const reloader = createKeyReloader({ ...options, keyRing, loadedManifest: manifest, log: fastify.log, timing })
  fastify.decorate('issuer', { keyRing, signAccessToken: signer.sign, reloadKeys: reloader.reload, keyTiming: timing })
  await fastify.register(wellKnownRoutes, { ...options, keyRing })
  fastify.addHook('onReady', async () => reloader.start())
  fastify.addHook('onClose', async () => reloader.stop())
}

declare module 'fastify' {
  interface FastifyInstance {
    issuer: {
      keyRing: ReturnType<typeof createKeyRing>
      signAccessToken: ReturnType<typeof createTokenSigner>['sign']
      /** Reads keyring.json now; true when the ring changed. Polling calls it too. */
      reloadKeys: ReturnType<typeof createKeyReloader>['reload']
      keyTiming: ReturnType<typeof keyTiming>
    }
  }
}

export default fp(issuerPlugin, { name: 'issuer', fastify: '5.x' })
export type { TokenSubject, AccessTokenClaims } from '../shared/claims.js'
