// A relying party: the authorization code flow with PKCE (openid-client)
// against the provider, then a page with the ID token's claims, or with the
// OAuth error the provider sent back.
//
// Run: node rp.js   (settings: the `setting(...)` calls below)

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';

import { escape, page, redirect } from './web.js';

const setting = (name, fallback) => (process.env[name] ?? fallback).replace(/\/$/, '');
const listen = new URL(`http://${setting('RP_LISTEN', '127.0.0.1:8084')}`);
const rpUrl = setting('RP_URL', 'http://localhost:8084');
const issuer = setting('OP_ISSUER', 'http://localhost:8083');
// The provider as this server reaches it, when that is not its public URL
// (in docker compose: http://oidc-provider:8083).
const issuerInternal = setting('OP_INTERNAL_URL', issuer);
const clientId = setting('RP_CLIENT_ID', 'demo-rp');
const clientSecret = process.env.RP_CLIENT_SECRET ?? 'demo-rp-secret';
const redirectUri = `${rpUrl}/callback`;

let config;
/** The provider's metadata, fetched once it answers. */
async function provider() {
  config ??= await client.discovery(new URL(issuer), clientId, clientSecret, undefined, {
    // Plain http is for loopback demos only.
    execute: [client.allowInsecureRequests],
    [client.customFetch]: (url, options) => fetch(url.replace(issuer, issuerInternal), options),
  }).catch((e) => {
    config = undefined;
    throw e;
  });
  return config;
}

// Logins in progress, by the rp_login cookie: PKCE verifier, state, nonce.
const pending = new Map();

async function login(req, res, url) {
  const id = randomBytes(16).toString('hex');
  const login = {
    verifier: client.randomPKCECodeVerifier(),
    state: client.randomState(),
    nonce: client.randomNonce(),
  };
  pending.set(id, login);
  const params = {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(login.verifier),
    code_challenge_method: 'S256',
    state: login.state,
    nonce: login.nonce,
  };
  // ?prompt=none: a silent login, which must not show the user anything.
  if (url.searchParams.get('prompt')) params.prompt = url.searchParams.get('prompt');
  res.setHeader('set-cookie', `rp_login=${id}; Path=/callback; HttpOnly; SameSite=Lax; Max-Age=600`);
  redirect(res, client.buildAuthorizationUrl(await provider(), params).href);
}

async function callback(req, res, url) {
  const id = (req.headers.cookie ?? '').match(/(?:^|;\s*)rp_login=(\w+)/)?.[1];
  const login = id && pending.get(id);
  if (!login) return page(res, 400, 'No login', '<h1 id="outcome">No login in progress</h1><p><a href="/">Start again</a></p>');
  pending.delete(id);
  let tokens;
  try {
    tokens = await client.authorizationCodeGrant(await provider(), new URL(url.pathname + url.search, rpUrl), {
      pkceCodeVerifier: login.verifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
    });
  } catch (e) {
    // The provider's answer was an OAuth error (after the state check).
    const error = e.error ?? e.code ?? 'error';
    const description = e.error_description ?? e.message;
    return page(res, 200, 'Login failed', `<h1 id="outcome">Login failed: ${escape(error)}</h1>
<p>error: <code id="error">${escape(error)}</code></p>
<p>error_description: <span id="error-description">${escape(description)}</span></p>
<p><a href="/">Back</a></p>`);
  }
  const claims = tokens.claims();
  const rows = Object.entries(claims).map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(JSON.stringify(v))}</td></tr>`).join('');
  return page(res, 200, 'Logged in', `<h1 id="outcome">Logged in as ${escape(claims.sub)}</h1>
<p>The ID token's claims (verified by openid-client):</p>
<table id="id-token-claims">${rows}</table>
<p>Access token scope: <code id="scope">${escape(tokens.scope ?? '')}</code></p>
<p><a id="again" href="/login">Log in again</a> · <a id="silent" href="/login?prompt=none">Silent login (prompt=none)</a></p>`);
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, rpUrl);
  try {
    if (url.pathname === '/healthz') return page(res, 200, 'ok', 'ok');
    if (url.pathname === '/') {
      return page(res, 200, 'Demo relying party', `<h1>Demo relying party</h1>
<p>Signs in at <code>${escape(issuer)}</code> with the authorization code flow and PKCE.</p>
<p><a id="login" href="/login">Log in</a> · <a id="silent" href="/login?prompt=none">Silent login (prompt=none)</a></p>`);
    }
    if (url.pathname === '/login') return await login(req, res, url);
    if (url.pathname === '/callback') return await callback(req, res, url);
    return page(res, 404, 'Not found', '<h1>Not found</h1>');
  } catch (e) {
    console.error('rp:', e);
    return page(res, 502, 'Error', `<h1>The provider is not usable</h1><p>${escape(e.message)}</p>`);
  }
});

server.listen(Number(listen.port), listen.hostname, () => {
  console.log(`rp: ${rpUrl} (listening on ${listen.host}); provider ${issuer}, client ${clientId}`);
});
