// The JWS primitives on their own: a signature is checked only with an algorithm made for the
// key's type, whoever the caller is (the plugin also refuses such a pair before it gets here).
import { generateKeyPairSync, sign } from 'node:crypto'
import t from 'tap'
import { decodeJws, signatureMatches } from '../../plugins/verifier/jws.js'

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

function signed (alg: string, signature: (input: Buffer) => Buffer) {
  const input = `${b64({ alg, typ: 'at+jwt', kid: 'k' })}.${b64({ sub: 'user-1' })}`
  return decodeJws(`${input}.${signature(Buffer.from(input)).toString('base64url')}`)!
}

t.test('an algorithm of another key family never matches, even over a signature that key made', async (t) => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const byRsa = signed('RS256', (input) => sign('sha256', input, rsa.privateKey))
  t.equal(signatureMatches('RS256', rsa.publicKey, byRsa), true)
  t.equal(signatureMatches('ES256', rsa.publicKey, byRsa), false)
  const byEc = signed('ES256', (input) => sign('sha256', input, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }))
  t.equal(signatureMatches('ES256', ec.publicKey, byEc), true)
  const byEcDer = signed('RS256', (input) => sign('sha256', input, ec.privateKey))
  t.equal(signatureMatches('RS256', ec.publicKey, byEcDer), false)
})
