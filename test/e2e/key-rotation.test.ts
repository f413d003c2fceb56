// Rotation under load, over real HTTP: a client calls the resource service without pause, each
// call with a freshly signed token, while the key ring is rotated twice by the function that
// `npm run keys:rotate` runs and the auth service picks the change up by polling keyring.json.
import t from 'tap'
import { rotateKeyFiles } from '../../plugins/issuer/key-rotation.js'
import { decodeJwt, waitFor } from '../issuer/helpers.js'
import { startAuth, startResource } from '../helper.js'

const subject = { sub: 'user-1', client_id: 'load-client', scope: 'profile', username: 'alice' }

async function protectedStatus (resourceUrl: string, token: string): Promise<number> {
  const response = await fetch(`${resourceUrl}/resource/protected`, { headers: { authorization: `Bearer ${token}` } })
  await response.arrayBuffer()
  return response.status
}

t.test('two rotations under continuous load: zero non-2xx, old tokens keep verifying', async (t) => {
  // A 1 s max-age and a 1 s poll make the rotation rule (a next key signs only once it has been
  // published for max-age + poll) 2 s. The verifier refreshes on the max-age it is given, so it
  // holds every next key before it signs: no request may depend on a kid-miss refetch.
  const auth = await startAuth(t, { JWKS_MAX_AGE: '1', KEYS_RELOAD_INTERVAL: '1' })
  const resource = await startResource(t, auth.url, { JWKS_COOLDOWN_MS: '200' })
  const sign = async () => (await auth.issuer.signAccessToken(subject)).accessToken
  const firstToken = await sign()
  const firstKid = decodeJwt(firstToken).header.kid

  const counts = { requests: 0, non2xx: 0, statuses: new Map<number, number>() }
  const load = { running: true }
  const client = async () => {
    while (load.running) {
      const status = await protectedStatus(resource.url, await sign())
      counts.requests++
      if (status < 200 || status > 299) counts.non2xx++
      counts.statuses.set(status, (counts.statuses.get(status) ?? 0) + 1)
    }
  }
  const clients = [client(), client(), client()]

  const rotatedKids: string[] = []
  const midTokens: string[] = []
  for (let i = 0; i < 2; i++) {
    const next = auth.issuer.keyRing.keys().find((key) => key.state === 'next')!
    // Honour the rule instead of forcing: wait until the next key is old enough to sign.
    await waitFor(() => Date.now() >= Date.parse(next.createdAt) + auth.issuer.keyTiming.minNextAge * 1000, 10_000)
    const { active } = await rotateKeyFiles(auth.keysDir, auth.issuer.keyTiming)
    await waitFor(() => auth.issuer.keyRing.activeKey().kid === active.kid, 10_000)
    rotatedKids.push(active.kid)
    midTokens.push(await sign())
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  load.running = false
  await Promise.all(clients)

  t.comment(`rotation under load: ${counts.requests} requests, ${counts.non2xx} non-2xx, statuses ${JSON.stringify([...counts.statuses])}`)
  t.ok(counts.requests > 50, `${counts.requests} requests during two rotations`)
  t.equal(counts.non2xx, 0, 'no answer but 2xx')
  t.same(midTokens.map((token) => decodeJwt(token).header.kid), rotatedKids, 'each rotation switched the signing kid')

  const jwks = await (await fetch(`${auth.url}/.well-known/jwks.json`)).json() as { keys: Array<{ kid: string }> }
  t.ok(jwks.keys.some((key) => key.kid === firstKid), 'the first key is retired but still published')
  t.equal(await protectedStatus(resource.url, firstToken), 200, 'a token signed before both rotations still verifies')
  const fresh = await startResource(t, auth.url)
  for (const token of [firstToken, ...midTokens]) {
    t.equal(await protectedStatus(fresh.url, token), 200, 'and at a verifier that fetches the JWKS only now')
  }
})

t.test('KEY_ROTATION_INTERVAL rotates the running service on its own', async (t) => {
  const auth = await startAuth(t, { JWKS_MAX_AGE: '0', KEYS_RELOAD_INTERVAL: '1', KEY_ROTATION_INTERVAL: '1' })
  const resource = await startResource(t, auth.url)
  const token = (await auth.issuer.signAccessToken(subject)).accessToken
  const first = auth.issuer.keyRing.activeKey().kid
  await waitFor(() => auth.issuer.keyRing.activeKey().kid !== first, 10_000)
  t.equal(await protectedStatus(resource.url, (await auth.issuer.signAccessToken(subject)).accessToken), 200, 'a token of the new key verifies')
  t.equal(await protectedStatus(resource.url, token), 200, 'and one of the retired key')
})

t.test('a KEY_ROTATION_INTERVAL shorter than JWKS_MAX_AGE + KEYS_RELOAD_INTERVAL is refused at start', async (t) => {
  await t.rejects(startAuth(t, { JWKS_MAX_AGE: '5m', KEY_ROTATION_INTERVAL: '1m' }),
    { message: /^Invalid configuration: KEY_ROTATION_INTERVAL must be at least JWKS_MAX_AGE \+ KEYS_RELOAD_INTERVAL \(305s\)/ })
  await t.rejects(startAuth(t, { KEYS_RELOAD_INTERVAL: '0', KEY_ROTATION_INTERVAL: '1d' }), { message: /KEYS_RELOAD_INTERVAL must not be 0/ })
})
