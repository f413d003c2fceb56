// Browser sign-in on two auth replicas sharing one PostgreSQL database (and SQLite, one process):
// a sign-in at one replica, the code redeemed at the other, the session used at both; and of 20
// concurrent redemptions of one code, exactly one succeeds and the others revoke what it issued.
import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import { COOKIE_SECRET, makeKeysDir, startAuth } from '../helper.js'
import { testServices } from '../services.js'
import { freshPostgresUrl } from '../store/databases.js'
import { authorizeUrl, browser, pkce, signInThroughForm, SPA_REDIRECT, startSignIn, tokenRequest, webParams, WEB_REDIRECT, type SignInApp } from './helpers.js'

const codeOf = (location: string | undefined) => new URL(location!).searchParams.get('code')!

async function raceOneCode (t: Test, signedInAt: SignInApp, redeemAt: SignInApp[]) {
  const b = browser()
  const { verifier, challenge } = pkce()
  const done = await signInThroughForm(signedInAt, b, webParams(challenge))
  const code = codeOf(done.location)
  const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => tokenRequest(redeemAt[index % redeemAt.length]!.url, {
    grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT, code_verifier: verifier
  }, ['web', signedInAt.webSecret])))
  const won = answers.filter((answer) => answer.status === 200)
  t.equal(won.length, 1, 'exactly one redemption succeeds')
  t.equal(answers.filter((answer) => answer.body.error === 'invalid_grant').length, 19, 'the others get invalid_grant')
  const sid = decodeJwt(won[0]!.body.access_token!).sid as string
  const family = await signedInAt.store.db.selectFrom('refresh_families').select('revoked_at').where('id', '=', sid).executeTakeFirstOrThrow()
  t.ok(family.revoked_at, 'a reuse revoked what the winner got')
}

t.test('SQLite: 20 concurrent redemptions of one code, exactly one wins', async (t) => {
  const app = await startSignIn(t)
  await raceOneCode(t, app, [app])
})

t.test('PostgreSQL, two replicas: sign in at A, redeem at B, single sign-on at both; one winner of 20', async (t) => {
  const services = testServices(t, 'postgres')
  if (!services) return
  // Behind a load balancer both replicas are one issuer (https: the cookies are __Host- and Secure).
  const shared = { ISSUER_URL: 'https://auth.example.test', DATABASE_URL: await freshPostgresUrl(t, services.postgres), KEYS_DIR: await makeKeysDir(t), COOKIE_SECRET }
  const replicaA = await startSignIn(t, shared)
  // B shares A's database (and so its clients and user): it only needs its own issuer URL to listen on.
  const replicaB = Object.assign(await startAuth(t, shared), { webSecret: replicaA.webSecret })

  const b = browser()
  const { verifier, challenge } = pkce()
  const done = await signInThroughForm(replicaA, b, webParams(challenge))
  const answer = await tokenRequest(replicaB.url, { grant_type: 'authorization_code', code: codeOf(done.location), redirect_uri: WEB_REDIRECT, code_verifier: verifier }, ['web', replicaA.webSecret])
  t.equal(answer.status, 200, 'a code from A is redeemed at B')
  const sso = await b.get(authorizeUrl(replicaB.url, { ...webParams(challenge), client_id: 'spa', redirect_uri: SPA_REDIRECT }))
  t.match(sso.location, /^http:\/\/127\.0\.0\.1:4000\/cb\?code=/, 'the browser session opened at A signs in at B')
  await raceOneCode(t, replicaA, [replicaA, replicaB])
})
