// An OpenID Provider (oidc-provider, OpenID Certified) whose post-login step
// is Detour. After the user signs in, the authorization request runs the
// post-login Actions through POST /v1/post-login, and only an `allow` lets
// oidc-provider issue the code; the Actions' claims go into the tokens.
//
// How it hooks into oidc-provider: a third prompt, `post_login`, after
// `login` and `consent`. Its check asks for an interaction until Detour has
// allowed this authorization request. The interaction (GET /interaction/:uid)
// calls Detour and follows a `redirect`; the result token comes back to
// /detour/callback. A request with prompt=none cannot interact: the check
// calls Detour itself, where canRedirect() is false, and turns a `deny` into
// the OAuth error (interaction_required when an Action wanted to redirect).
//
// Run: node provider.js   (settings: the `setting(...)` calls below)

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import * as jose from 'jose';
import Provider, { errors, interactionPolicy } from 'oidc-provider';

import * as accounts from './accounts.js';
import { DetourError, detourClient, newTransactionId, postLoginEvent, unsupported } from './detour.js';
import { escape, page, readForm, redirect, requestInfo } from './web.js';

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
// list the claims your Actions set with api.idToken.setCustomClaim.
const actionClaims = setting('OP_ACTION_CLAIMS', 'https://my-app.example.com/roles').split(',');

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

// --- oidc-provider ------------------------------------------------------------

const { Prompt, Check, base } = interactionPolicy;
const policy = base();
policy.add(new Prompt(
  { name: 'post_login', requestable: false },
  new Check('detour', "the post-login Actions have not allowed this login", async (ctx) => {
    if (ctx.oidc.result?.post_login) return Check.NO_NEED_TO_PROMPT;
    if (!ctx.oidc.promptPending('none')) return Check.REQUEST_PROMPT;
    await runSilently(ctx);
    return Check.NO_NEED_TO_PROMPT;
  }),
));

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingKey = { ...await jose.exportJWK(privateKey), kid: 'demo', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [client],
  jwks: { keys: [signingKey] },
  cookies: { keys: [process.env.OP_COOKIE_KEY ?? randomBytes(32).toString('hex')] },
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
        return {
          sub,
          email: user.email,
          email_verified: true,
          name: user.name,
          given_name: user.given_name,
          family_name: user.family_name,
          nickname: user.username,
          ...fromActions?.idToken,
        };
      },
    };
  },
  async extraTokenClaims(ctx, token) {
    return actionTokenClaims.get(token.grantId)?.accessToken;
  },
});

// --- applying Detour's outcome ------------------------------------------------

/**
 * An error_description as OAuth allows it (RFC 6749 4.1.2.1: printable ASCII
 * without `"` and `\\`); Detour's descriptions quote Action names.
 */
const oauthText = (text) => String(text).replace(/"/g, "'").replace(/\\/g, '/').replace(/[^\x20-\x7e]/g, '?');

/** The OAuth error oidc-provider sends to the client for Detour's `error`. */
function oauthError(error, description) {
  description = oauthText(description);
  const name = error.replace(/(^|_)([a-z])/g, (_, __, c) => c.toUpperCase());
  const Known = errors[name];
  return Known ? new Known(description) : new errors.CustomOIDCProviderError(error, description);
}

/**
 * Applies a final outcome (allow or deny; never redirect) to the user and
 * the grant. Resolves with the OAuth error to send instead of a code, or
 * undefined when the login may go on.
 */
async function applyOutcome(outcome, { user, grant, resource }) {
  // Metadata changes count even when the login is denied (as on Auth0).
  accounts.applyMetadata(user, outcome.user);
  if (outcome.outcome === 'deny') {
    return { error: outcome.error ?? 'access_denied', error_description: oauthText(outcome.error_description ?? 'denied') };
  }
  const refusal = outcome.outcome === 'allow' ? unsupported(outcome) : `unexpected outcome ${outcome.outcome}`;
  if (refusal) return { error: 'access_denied', error_description: refusal };

  // oidc-provider issues the scopes of the Grant (the consent record), so
  // the Actions' scope changes go there; a removal lasts for later logins
  // into the same grant too. Only requested scopes reach a token.
  const oidcScopes = new Set(['openid', 'profile', 'email']);
  const { add = [], remove = [] } = outcome.access_token?.scopes ?? {};
  for (const scope of add) {
    if (oidcScopes.has(scope)) grant.addOIDCScope(scope);
    else if (resource) grant.addResourceScope(resource, scope);
  }
  for (const scope of remove) {
    if (oidcScopes.has(scope)) grant.rejectOIDCScope(scope);
    else if (resource) grant.rejectResourceScope(resource, scope);
  }
  await grant.save();

  const idToken = outcome.id_token?.claims ?? {};
  for (const claim of Object.keys(idToken)) {
    if (!actionClaims.includes(claim)) console.warn(`provider: claim ${claim} is not in OP_ACTION_CLAIMS, so not released`);
  }
  actionTokenClaims.set(grant.jti, { idToken, accessToken: outcome.access_token?.claims ?? {} });
  return undefined;
}

/** prompt=none: the Actions run server to server, inside the check. */
async function runSilently(ctx) {
  const { oidc } = ctx;
  const user = accounts.byId(oidc.session.accountId);
  const params = oidc.params.toPlainObject();
  const event = postLoginEvent({
    params,
    client: { client_id: oidc.client.clientId, name: oidc.client.clientName },
    user,
    request: requestInfo(ctx.req),
    transactionId: newTransactionId(),
  });
  let outcome;
  try {
    outcome = await detour.postLogin(event, event.transaction.id);
  } catch (e) {
    throw oauthError(e.error, e.message);
  }
  // Detour answers `deny` with interaction_required when an Action wanted to
  // redirect; a `redirect` cannot happen here, but would mean the same.
  if (outcome.outcome === 'redirect') {
    throw oauthError('interaction_required', 'an Action needs the user to interact');
  }
  const failed = await applyOutcome(outcome, { user, grant: oidc.grant, resource: params.resource });
  if (failed) throw oauthError(failed.error, failed.error_description);
}

/**
 * Ends an interaction with `result` and sends the browser back to
 * oidc-provider (what provider.interactionFinished does, for an interaction
 * found by id rather than by its cookie).
 */
async function finishInteraction(res, interaction, result) {
  interaction.result = 'error' in result ? result : { ...interaction.lastSubmission, ...result };
  await interaction.persist();
  redirect(res, interaction.returnTo);
}

// --- the interaction pages ----------------------------------------------------

/** The cookie that ties a detour to the browser that left for it. */
const detourCookie = (uid) => `detour_tx_${uid}`;

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
    return finishInteraction(res, details, { error: e.error, error_description: oauthText(e.message) });
  }
  if (outcome.outcome === 'redirect') {
    const secure = issuer.startsWith('https:') ? '; Secure' : '';
    res.setHeader('set-cookie', `${detourCookie(uid)}=1; Path=/detour/callback; HttpOnly; SameSite=Lax; Max-Age=3600${secure}`);
    return redirect(res, outcome.location);
  }
  const grant = await provider.Grant.find(details.grantId);
  const failed = await applyOutcome(outcome, { user, grant, resource: params.resource });
  return finishInteraction(res, details, failed ?? { post_login: { at: Date.now() } });
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

/** GET ?result=… or a form POST with `result`: the end of a detour. */
async function detourCallback(req, res) {
  const url = new URL(req.url, issuer);
  const token = req.method === 'POST' ? (await readForm(req)).get('result') : url.searchParams.get('result');
  const refuse = (message) => page(res, 400, 'Login failed', `<h1 id="refused">The result of the login is refused</h1><p id="reason">${escape(message)}</p>`);
  if (!token) return refuse('There is no result token.');

  let outcome;
  try {
    outcome = await detour.verifyResult(token);
  } catch (e) {
    if (e instanceof DetourError) return refuse(e.message);
    throw e;
  }
  // transaction_id is the interaction this browser left for the detour.
  const uid = outcome.transaction_id;
  const cookies = req.headers.cookie ?? '';
  if (!uid || !cookies.split(/;\s*/).includes(`${detourCookie(uid)}=1`)) {
    return refuse('The result is for a login this browser did not start here.');
  }
  const pending = await provider.Interaction.find(uid);
  if (!pending || pending.prompt.name !== 'post_login') return refuse('The login has expired or already ended.');
  res.setHeader('set-cookie', `${detourCookie(uid)}=; Path=/detour/callback; Max-Age=0`);

  const user = accounts.byId(pending.session.accountId);
  const grant = await provider.Grant.find(pending.grantId);
  const failed = await applyOutcome(outcome, { user, grant, resource: pending.params.resource });
  return finishInteraction(res, pending, failed ?? { post_login: { jti: outcome.jti } });
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
