// The issuer plugin: loads the key ring, signs access tokens and publishes the JWKS.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { loadKeyFiles } from './key-files.js'
import { createKeyRing } from './key-ring.js'
import { createTokenSigner } from './token-signer.js'
import { wellKnownRoutes } from './well-known-routes.js'

export const IssuerOptionsSchema = Type.Object({
  issuer: Type.String({ minLength: 1, description: 'The `iss` of every token; verifiers trust exactly this string' }),
  audience: Type.String({ minLength: 1 }),
  accessTokenTtl: Type.Integer({ minimum: 1, description: 'Access token lifetime in seconds' }),
  keysDir: Type.String({ minLength: 1 }),
  jwksMaxAge: Type.Integer({ minimum: 0, default: 300, description: 'JWKS Cache-Control max-age in seconds' })
})
export type IssuerOptions = Static<typeof IssuerOptionsSchema>
export type IssuerPluginOptions = Omit<IssuerOptions, 'jwksMaxAge'> & Partial<Pick<IssuerOptions, 'jwksMaxAge'>>

function checkOptions (options: IssuerPluginOptions): IssuerOptions {
  const withDefaults = Value.Default(IssuerOptionsSchema, structuredClone(options))
  const error = Value.Errors(IssuerOptionsSchema, withDefaults).First()
  if (error) throw new TypeError(`issuer plugin: option ${error.path.slice(1) || '(root)'}: ${error.message}`)
  return withDefaults as IssuerOptions
}

/** Builds the issuer: key ring from `keysDir`, a token signer and the well-known routes. */
export async function issuerPlugin (fastify: FastifyInstance, pluginOptions: IssuerPluginOptions) {
  const options = checkOptions(pluginOptions)
  const keyRing = createKeyRing(await loadKeyFiles(options.keysDir), options.keysDir)
  const signer = createTokenSigner(keyRing, options)
  fastify.decorate('issuer', { keyRing, signAccessToken: signer.sign })
  await fastify.register(wellKnownRoutes, { ...options, keyRing })
}

declare module 'fastify' {
  interface FastifyInstance {
    issuer: {
      keyRing: ReturnType<typeof createKeyRing>
      signAccessToken: ReturnType<typeof createTokenSigner>['sign']
    }
  }
}

export default fp(issuerPlugin, { name: 'issuer', fastify: '5.x' })
export type { TokenSubject, AccessTokenClaims } from '../shared/claims.js'
