// An OpenID Provider (oidc-provider, OpenID Certified) whose post-login step
// is Detour. After the user signs in, the authorization request runs the
// post-login Actions through POST /v1/post-login, and only an `allow` lets
// oidc-provider issue the code; the Actions' claims go into the tokens.
//
// How it hooks into oidc-provider: a third prompt, `post_login`, after
// `login` and `consent`. Its check asks for an interaction until Detour has
// given its verdict on this authorization request. The interaction (GET
// /interaction/:uid) calls Detour and follows a `redirect`; the result token
// comes back to /detour/callback, which verifies it and ends the interaction
// with the verdict. A request with prompt=none cannot interact: the check
// calls Detour itself, where canRedirect() is false (an Action that wants
// to redirect ends the login with interaction_required). Either way the
// check enforces the verdict: an OAuth error to the client, or the Actions'
// claims and scopes for the tokens.
//
// Run: node provider.js   (settings: the `setting(...)` calls below)

import http from 'node:http';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as jose from 'jose';
import Provider, { errors, interactionPolicy } from 'oidc-provider';

import * as accounts from './accounts.js';
import {
  DetourError, PROTOCOL_CLAIMS, decide, detourClient, newTransactionId, oauthText, postLoginEvent,
} from './detour.js';
import { cookie, escape, page, readForm, redirect, requestInfo } from './web.js';

const setting = (name, fallback) => (process.env[name] ?? fallback).replace(/\/$/, '');
const secret = (name, demoValue) => {
  if (process.env[name]) return process.env[name];
  console.warn(`provider: ${name} is not set, using the demo value`);
  return demoValue;
};

const listen = new URL(`http://${setting('OP_LISTEN', '127.0.0.1:8083')}`);
const issuer = setting('OP_ISSUER', 'http://localhost:8083');
const client = {
  client_id: setting('RP_CLIENT_ID', 'demo-rp'),
  client_secret: secret('RP_CLIENT_SECRET', 'demo-rp-secret'),
  client_name: 'Demo relying party',
  redirect_uris: [`${setting('RP_URL', 'http://localhost:8084')}/callback`],
  post_logout_redirect_uris: [setting('RP_URL', 'http://localhost:8084')],
};
// oidc-provider releases only the claims it advertises (claims_supported):
// list the claims your Actions set with api.idToken.setCustomClaim. Never
// one the provider sets itself: the user's own claims are not the Actions'.
const userClaims = ['email', 'email_verified', 'name', 'given_name', 'family_name', 'nickname'];
const actionClaims = setting('OP_ACTION_CLAIMS', 'https://my-app.example.com/roles').split(',');
for (const claim of actionClaims) {
  if (PROTOCOL_CLAIMS.has(claim) || userClaims.includes(claim)) {
    throw new Error(`provider: OP_ACTION_CLAIMS names ${claim}, which only the provider sets`);
  }
}

const detour = detourClient({
  apiUrl: setting('DETOUR_API_URL', 'http://127.0.0.1:8080'),
  publicUrl: setting('DETOUR_PUBLIC_URL', 'http://localhost:8080'),
  upstreamId: setting('DETOUR_UPSTREAM_ID', 'oidc-provider'),
  apiKey: secret('OIDC_API_KEY', 'demo-oidc-api-key'),
  resultSecret: secret('OIDC_RESULT_SECRET', 'demo-oidc-result-secret-for-laptops-only'),
  returnTo: `${issuer}/detour/callback`,
});

// grantId -> the claims the Actions set in the latest login of that grant,
// read when the tokens are issued. A real IdP stores them with the grant.
const actionTokenClaims = new Map();
// Signs the cookie that ties a detour to the browser that left for it.
const cookieKey = process.env.OP_COOKIE_KEY ?? randomBytes(32).toString('hex');

// --- oidc-provider ------------------------------------------------------------

const { Prompt, Check, base } = interactionPolicy;
const policy = base();
policy.add(new Prompt(
  { name: 'post_login', requestable: false },
  new Check('detour', 'the post-login Actions have not allowed this login', async (ctx) => {
    // Detour's verdict: from the interaction that just ended, if it was about
    // the user now signed in; else, when the request cannot interact, asked
    // for here, server to server.
    let verdict = ctx.oidc.result?.post_login;
    if (verdict?.accountId !== ctx.oidc.session.accountId) verdict = undefined;
    if (!verdict) {
      if (!ctx.oidc.promptPending('none')) return Check.REQUEST_PROMPT;
      verdict = await runSilently(ctx);
    }
    await enforce(ctx, verdict);
    return Check.NO_NEED_TO_PROMPT;
  }),
));

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingKey = { ...await jose.exportJWK(privateKey), kid: 'demo', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [client],
  jwks: { keys: [signingKey] },
  cookies: { keys: [cookieKey] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  claims: {
    openid: ['sub', ...actionClaims],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'nickname'],
  },
  // Profile claims in the ID token too, as Auth0 does.
  conformIdTokenClaims: false,
  async findAccount(ctx, sub, token) {
    const user = accounts.byId(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        const fromActions = actionTokenClaims.get(token?.grantId ?? ctx.oidc.entities.Grant?.jti);
        // The Actions' claims first: the provider's own win over them.
        return {
          ...fromActions?.idToken,
          sub,
          email: user.email,
          email_verified: true,
          name: user.name,
          given_name: user.given_name,
          family_name: user.family_name,
          nickname: user.username,
        };
      },
    };
  },
  async extraTokenClaims(ctx, token) {
    return actionTokenClaims.get(token.grantId)?.accessToken;
  },
});

// --- applying Detour's outcome ------------------------------------------------

/** The OAuth error oidc-provider sends to the client for Detour's `error`. */
function oauthError(error, description) {
  description = oauthText(description);
  const name = error.replace(/(^|_)([a-z])/g, (_, __, c) => c.toUpperCase());
  const Known = errors[name];
  return Known ? new Known(description) : new errors.CustomOIDCProviderError(error, description);
}

/**
 * Takes an outcome in: writes its metadata changes (they count even when
 * the login is denied, as on Auth0) and returns the verdict (detour.js,
 * `decide`) for the user it was about, to keep until the check enforces it.
 */
function receive(outcome, user) {
  accounts.applyMetadata(user, outcome.user);
  return { accountId: user.user_id, ...decide(outcome) };
}

/**
 * Carries out a verdict on this authorization request, in the post_login
 * check. An error ends the request at the client (and first the session,
 * when an Action revoked it). An allow keeps the Actions' claims for the
 * tokens and changes this request's scopes.
 */
async function enforce(ctx, verdict) {
  const { oidc } = ctx;
  if (verdict.error) {
    if (verdict.endSession) await endSession(oidc.session);
    throw oauthError(verdict.error, verdict.error_description);
  }
  changeScopes(oidc, verdict.allow.scopes);
  for (const claim of Object.keys(verdict.allow.idToken)) {
    if (!actionClaims.includes(claim)) console.warn(`provider: claim ${claim} is not in OP_ACTION_CLAIMS, so not released`);
  }
  actionTokenClaims.set(oidc.grant.jti, { idToken: verdict.allow.idToken, accessToken: verdict.allow.accessToken });
}

/**
 * The Actions' scope changes, for this request only: oidc-provider issues
 * the code's scopes from the Grant (the consent record) it loaded for the
 * request, so they are made to that copy and never saved. A removal does
 * not outlast this login, and an addition never widens the consent: only
 * scopes this request asked for (oidc-provider has checked them against the
 * client) are added, and the user's rejections still win.
 */
function changeScopes(oidc, { add, remove }) {
  const { grant } = oidc;
  // The memory adapter hands out its stored objects: change copies.
  for (const part of ['openid', 'resources', 'rejected']) {
    if (grant[part]) grant[part] = structuredClone(grant[part]);
  }
  const servers = Object.values(oidc.resourceServers ?? {});
  for (const scope of add.filter((s) => oidc.requestParamScopes.has(s))) {
    if (oidc.requestParamOIDCScopes.has(scope)) grant.addOIDCScope(scope);
    for (const rs of servers) if (rs.scopes.has(scope)) grant.addResourceScope(rs.identifier(), scope);
  }
  for (const scope of remove) {
    grant.rejectOIDCScope(scope);
    for (const rs of servers) grant.rejectResourceScope(rs.identifier(), scope);
  }
}

/** api.session.revoke: the user's session at this provider ends. */
async function endSession(session) {
  // A resumed request has already given the session a new id, saved at the
  // end of the request; the stored session is still under the old one.
  if (session.oldId) await provider.Session.adapter.destroy(session.oldId);
  await session.destroy();
}

/** prompt=none: the Actions run server to server; resolves with the verdict. */
async function runSilently(ctx) {
  const { oidc } = ctx;
  const user = accounts.byId(oidc.session.accountId);
  const event = postLoginEvent({
    params: oidc.params.toPlainObject(),
    client: { client_id: oidc.client.clientId, name: oidc.client.clientName },
    user,
    request: requestInfo(ctx.req),
    transactionId: newTransactionId(),
  });
  try {
    // Detour answers `deny` / interaction_required when an Action wanted to
    // redirect; `decide` reads a `redirect` the same way.
    return receive(await detour.postLogin(event, event.transaction.id), user);
  } catch (e) {
    if (e instanceof DetourError) throw oauthError(e.error, e.message);
    throw e;
  }
}

/**
 * Ends an interaction with `result` and sends the browser back to
 * oidc-provider (what provider.interactionFinished does, for an interaction
 * found by id rather than by its cookie).
 */
async function finishInteraction(res, interaction, result) {
  interaction.result = { ...interaction.lastSubmission, ...result };
  await interaction.persist();
  redirect(res, interaction.returnTo);
}

// --- the interaction pages ----------------------------------------------------

/**
 * The cookie that ties a detour to the browser that left for it: named
 * after the interaction, its value a MAC of the interaction's uid, which
 * nobody else (a sibling domain able to set cookies) can forge. On https it
 * is SameSite=None: a long result comes back as a form POST from Detour's
 * page, cross-site when Detour is on another site, and a Lax cookie would
 * not come with it. Browsers refuse None on plain http (local demos).
 */
const binding = {
  name: (uid) => `detour_tx_${uid}`,
  value: (uid) => createHmac('sha256', cookieKey).update(`detour-binding ${uid}`).digest('base64url'),
  set(res, uid) {
    const site = issuer.startsWith('https:') ? 'SameSite=None; Secure' : 'SameSite=Lax';
    res.setHeader('set-cookie', `${this.name(uid)}=${this.value(uid)}; Path=/detour/callback; HttpOnly; ${site}; Max-Age=3600`);
  },
  /** Whether this request comes from the browser that left for interaction `uid`. */
  holds(req, uid) {
    const sent = Buffer.from(cookie(req, this.name(uid)) ?? '');
    const expected = Buffer.from(this.value(uid));
    return sent.length === expected.length && timingSafeEqual(sent, expected);
  },
  clear(res, uid) {
    res.setHeader('set-cookie', `${this.name(uid)}=; Path=/detour/callback; Max-Age=0`);
  },
};

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  const op = await provider.Client.find(params.client_id);

  if (prompt.name === 'login') {
    return page(res, 200, 'Sign in', loginForm(uid, op, params));
  }

  if (prompt.name === 'consent') {
    // A first-party client: the requested scopes are granted without asking.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
    return finishInteraction(res, details, { consent: { grantId: await grant.save() } });
  }

  if (prompt.name !== 'post_login') throw new errors.InvalidRequest(`no page for the ${prompt.name} prompt`);

  // post_login: run the Actions for this authorization request.
  const user = accounts.byId(details.session.accountId);
  const event = postLoginEvent({
    params,
    client: { client_id: op.clientId, name: op.clientName },
    user,
    request: requestInfo(req),
    transactionId: uid,
  });
  let outcome;
  try {
    outcome = await detour.postLogin(event, uid);
  } catch (e) {
    if (!(e instanceof DetourError)) throw e;
    const verdict = { accountId: user.user_id, error: e.error, error_description: e.message };
    return finishInteraction(res, details, { post_login: verdict });
  }
  if (outcome.outcome === 'redirect') {
    binding.set(res, uid);
    return redirect(res, outcome.location);
  }
  return finishInteraction(res, details, { post_login: receive(outcome, user) });
}

async function login(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid || details.prompt.name !== 'login') throw new errors.InvalidRequest('not a login interaction');
  const form = await readForm(req);
  const user = accounts.authenticate(form.get('username'), form.get('password'));
  if (!user) {
    const op = await provider.Client.find(details.params.client_id);
    return page(res, 200, 'Sign in', loginForm(uid, op, details.params, 'Wrong user name or password.'));
  }
  return provider.interactionFinished(req, res, { login: { accountId: user.user_id } }, { mergeWithLastSubmission: false });
}

/**
 * GET ?result=… or a form POST with `result`: the end of a detour. Detour
 * lets an outcome carry 100 KiB of claims and 64 KiB of metadata, so a
 * posted result may take a few hundred KiB.
 */
async function detourCallback(req, res) {
  const url = new URL(req.url, issuer);
  const posted = req.method === 'POST' ? await readForm(req, 1024 * 1024) : undefined;
  const token = posted ? posted.get('result') : url.searchParams.get('result');
  const refuse = (message) => page(res, 400, 'Login failed', `<h1 id="refused">The result of the login is refused</h1><p id="reason">${escape(message)}</p>`);
  if (!token) return refuse('There is no result token.');

  // transaction_id is the interaction this browser left for the detour: it
  // must still wait for Detour, and this must be that browser.
  let pending;
  const isPending = async (uid) => {
    pending = await provider.Interaction.find(uid);
    return Boolean(pending && pending.prompt.name === 'post_login' && !pending.result && binding.holds(req, uid));
  };
  let outcome;
  try {
    outcome = await detour.verifyResult(token, isPending);
  } catch (e) {
    if (e instanceof DetourError) return refuse(e.message);
    throw e;
  }
  binding.clear(res, pending.uid);
  const user = accounts.byId(pending.session.accountId);
  return finishInteraction(res, pending, { post_login: receive(outcome, user) });
}

function loginForm(uid, op, params, error = '') {
  const people = accounts.all().map((u) => `<li><code>${escape(u.username)}</code>: ${escape(u.name)}, ${escape(u.email)}${u.app_metadata.blocked ? ' (blocked)' : ''}</li>`).join('');
  return `<h1>Sign in to ${escape(op.clientName ?? op.clientId)}</h1>
<p>Requested scopes: <code>${escape(params.scope)}</code></p>
${error ? `<p id="error" class="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
  <label>User name <input id="username" name="username" required autofocus></label>
  <label>Password <input id="password" name="password" type="password" required></label>
  <button id="sign-in" type="submit">Sign in</button>
</form>
<p>Demo users (password <code>demo</code>):</p><ul>${people}</ul>`;
}

// --- the server ---------------------------------------------------------------

const oidc = provider.callback();

const server = http.createServer(async (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  const loginPath = pathname.match(/^\/interaction\/([\w-]+)\/login$/);
  try {
    if (pathname === '/healthz') return page(res, 200, 'ok', 'ok');
    if (req.method === 'GET' && /^\/interaction\/[\w-]+$/.test(pathname)) return await interaction(req, res);
    if (req.method === 'POST' && loginPath) return await login(req, res, loginPath[1]);
    if (pathname === '/detour/callback' && ['GET', 'POST'].includes(req.method)) return await detourCallback(req, res);
    return oidc(req, res);
  } catch (e) {
    const known = e instanceof errors.OIDCProviderError;
    if (!known) console.error('provider:', e);
    return page(res, known ? e.statusCode : 500, 'Error', `<h1>${escape(known ? e.error : 'server_error')}</h1><p>${escape(known ? e.error_description : 'see the provider log')}</p>`);
  }
});

server.listen(Number(listen.port), listen.hostname, () => {
  console.log(`provider: ${issuer} (listening on ${listen.host}); Detour at ${setting('DETOUR_API_URL', 'http://127.0.0.1:8080')}; client ${client.client_id} -> ${client.redirect_uris[0]}`);
});
