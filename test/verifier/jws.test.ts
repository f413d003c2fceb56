// The JWS primitives on their own: a key gets a signature check only for the algorithms made for
// its type and curve, so an algorithm of another family can never be tried with it.
import { generateKeyPairSync, sign } from 'node:crypto'
import t from 'tap'
import { decodeJws, signatureChecks, signatureMatches } from '../../plugins/verifier/jws.js'

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

function signed (alg: string, signature: (input: Buffer) => Buffer) {
  const input = `${b64({ alg, typ: 'at+jwt', kid: 'k' })}.${b64({ sub: 'user-1' })}`
  return decodeJws(`${input}.${signature(Buffer.from(input)).toString('base64url')}`)!
}

t.test('an algorithm of another key family never matches, even over a signature that key made', async (t) => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const rsaChecks = signatureChecks(rsa.publicKey, ['RS256', 'ES256'])
  const ecChecks = signatureChecks(ec.publicKey, ['RS256', 'ES256', 'ES384'])
  t.same([...rsaChecks.keys()], ['RS256'])
  t.same([...ecChecks.keys()], ['ES256'], 'nor a curve other than its own')
  const byRsa = signed('RS256', (input) => sign('sha256', input, rsa.privateKey))
  t.equal(signatureMatches(rsaChecks.get('RS256')!, byRsa), true)
  t.equal(signatureMatches(ecChecks.get('ES256')!, byRsa), false)
  const byEc = signed('ES256', (input) => sign('sha256', input, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }))
  t.equal(signatureMatches(ecChecks.get('ES256')!, byEc), true)
  const byEcDer = signed('ES256', (input) => sign('sha256', input, ec.privateKey))
  t.equal(signatureMatches(ecChecks.get('ES256')!, byEcDer), false, 'JWS signatures are R || S, not DER')
})
