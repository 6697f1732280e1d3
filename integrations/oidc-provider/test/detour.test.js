// The rules of detour.js that no demo Action reaches: what each outcome
// means for the login, the error_description charset, result token
// verification and the single use of its jti. Run: node --test
// (tests/oidc.rs runs it too).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as jose from 'jose';

import { decide, detourClient, jtiStore, oauthText } from '../detour.js';

const refused = (outcome) => decide({ executions: [], ...outcome }).error_description;

test('every effect this provider cannot perform refuses the login instead of being dropped', () => {
  const cases = {
    'an Action rendered a Form': { outcome: 'prompt', prompt: { id: 'ap_1' } },
    'multi-factor': { outcome: 'allow', multifactor: { provider: 'any', allow_remember_browser: false } },
    'multi-factor ': { outcome: 'allow', authentication: { challenge: [{ any: false, factors: [{ type: 'otp' }] }] } },
    'multi-factor  ': { outcome: 'allow', authentication: { enroll: [{ any: true, factors: [] }] } },
    'primary user': { outcome: 'allow', authentication: { primary_user: 'oidc|other' } },
    "session's lifetime": { outcome: 'allow', session: { expires_at: 1 } },
    "session's lifetime ": { outcome: 'allow', session: { cookie_mode: 'non-persistent' } },
    'validation error': { outcome: 'allow', validation_error: { code: 'x', message: 'y' } },
    'revoked the session': { outcome: 'allow', session: { revoke: { reason: 'r' } } },
    'does not know': { outcome: 'allow', something_new: {} },
    'toString': { outcome: 'allow', toString: {} },
    'session.later': { outcome: 'allow', session: { later: true } },
    'unknown outcome': { outcome: 'maybe' },
  };
  for (const [reason, outcome] of Object.entries(cases)) {
    const verdict = decide({ executions: [], ...outcome });
    assert.equal(verdict.error, 'access_denied', reason);
    assert.ok(verdict.error_description.includes(reason.trim()), `${reason}: ${verdict.error_description}`);
    assert.equal(verdict.allow, undefined);
  }
});

test('what changes no decision is allowed: MFA turned off, recorded methods, session metadata, SAML, refresh tokens', () => {
  const verdict = decide({
    outcome: 'allow',
    executions: [],
    multifactor: { provider: 'none', allow_remember_browser: false },
    authentication: { methods: [{ name: 'https://example.com/otp', timestamp: 't' }] },
    session: { metadata: { a: 'b' }, cookie_mode: 'persistent' },
    saml_response: { issuer: 'x' },
    refresh_token: { metadata: { a: 'b' } },
    transaction_metadata: { k: 'v' },
    iss: 'i', aud: 'a', iat: 1, exp: 2, jti: 'j', transaction_id: 't',
  });
  assert.deepEqual(verdict, { allow: { idToken: {}, accessToken: {}, scopes: { add: [], remove: [] } } });
});

test('a deny keeps its error and reason; an unknown error code becomes access_denied; a revoke ends the session', () => {
  assert.deepEqual(
    decide({ outcome: 'deny', error: 'interaction_required', error_description: 'Action "terms" wants to redirect' }),
    { error: 'interaction_required', error_description: "Action 'terms' wants to redirect", endSession: false },
  );
  assert.equal(decide({ outcome: 'deny', error: 'invalid_client', error_description: 'x' }).error, 'access_denied');
  const revoked = decide({ outcome: 'deny', error: 'access_denied', error_description: 'bye', session: { revoke: { reason: 'bye' } } });
  assert.equal(revoked.endSession, true);
  assert.equal(decide({ outcome: 'redirect', location: 'https://x' }).error, 'interaction_required');
});

test("an Action's claims cannot replace the claims that say whom and what a token is for", () => {
  const claims = { sub: 'oidc|admin', iss: 'https://evil', aud: 'x', nonce: 'n', at_hash: 'h', cnf: {}, scope: 'admin', 'https://my-app.example.com/roles': ['admin'] };
  const { allow } = decide({
    outcome: 'allow',
    id_token: { claims },
    access_token: { claims, scopes: { add: ['read', 7], remove: ['email'] } },
  });
  assert.deepEqual(allow.idToken, { 'https://my-app.example.com/roles': ['admin'] });
  assert.deepEqual(allow.accessToken, { 'https://my-app.example.com/roles': ['admin'] });
  assert.deepEqual(allow.scopes, { add: ['read'], remove: ['email'] });
});

test('error_description keeps to printable ASCII without quote or backslash, whatever the Action wrote', () => {
  assert.equal(oauthText('Action "x" said \\no\\'), "Action 'x' said /no/");
  assert.equal(oauthText('Zugang gesperrt – bitte 😀\nneu'), 'Zugang gesperrt ? bitte ??neu');
  assert.match(oauthText('a'.repeat(5000)), /^a{497}\.\.\.$/);
  assert.equal(refused({ outcome: 'deny', error_description: 'é"\u0000' }), "?'?");
});

test('a jti is used once, forgotten after its token expires, and a full store refuses rather than forgets', () => {
  const store = jtiStore(2);
  assert.equal(store.spend('a', 100, 50), undefined);
  assert.match(store.spend('a', 100, 60), /already used/);
  assert.equal(store.spend('b', 100, 60), undefined);
  assert.match(store.spend('c', 100, 60), /cannot be checked/);
  assert.match(store.spend('a', 100, 60), /already used/);
  // Once a and b have expired they are dropped, and new tokens fit again.
  assert.equal(store.spend('c', 200, 101), undefined);
  assert.equal(store.size, 1);
});

test('a result token is checked for its browser before its jti is spent, and only HS256 from Detour is accepted', async () => {
  const resultSecret = 'test-result-secret-of-at-least-32-bytes';
  const detour = detourClient({
    apiUrl: 'http://detour.invalid', publicUrl: 'https://detour.example.com', upstreamId: 'idp',
    apiKey: 'k', resultSecret, returnTo: 'https://idp.example.com/detour/callback',
  });
  const sign = (claims, { alg = 'HS256', key = resultSecret, exp = '2m', iss = 'https://detour.example.com', aud = 'idp' } = {}) =>
    new jose.SignJWT({ outcome: 'allow', executions: [], transaction_id: 'tx1', ...claims })
      .setProtectedHeader({ alg, typ: 'JWT' })
      .setIssuer(iss).setAudience(aud).setIssuedAt().setExpirationTime(exp).setJti(crypto.randomUUID())
      .sign(new TextEncoder().encode(key));
  const mine = async (id) => id === 'tx1';

  const token = await sign({});
  await assert.rejects(detour.verifyResult(token, async () => false), /did not start here/);
  assert.equal((await detour.verifyResult(token, mine)).transaction_id, 'tx1');
  await assert.rejects(detour.verifyResult(token, mine), /already used/);

  await assert.rejects(detour.verifyResult(await sign({ transaction_id: 'tx2' }), mine), /did not start here/);
  await assert.rejects(detour.verifyResult(await sign({ transaction_id: undefined }), mine), /did not start here/);
  await assert.rejects(detour.verifyResult(await sign({}, { aud: 'other' }), mine), /aud/);
  await assert.rejects(detour.verifyResult(await sign({}, { aud: ['idp', 'other'] }), mine), /another audience/);
  await assert.rejects(detour.verifyResult(await sign({}, { iss: 'https://evil' }), mine), /iss/);
  await assert.rejects(detour.verifyResult(await sign({}, { exp: '-1s' }), mine), /exp/);
  await assert.rejects(detour.verifyResult(await sign({}, { alg: 'HS512' }), mine), /alg/);
  await assert.rejects(detour.verifyResult(await sign({}, { key: 'another-secret-of-at-least-32-bytes!!' }), mine), /signature/);
});
