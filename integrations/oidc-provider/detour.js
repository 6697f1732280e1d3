// Detour, seen from an identity provider: build the post-login event, call
// POST /v1/post-login, verify the result token that comes back through the
// browser, and decide what an outcome means for the login. Nothing here
// knows about oidc-provider; provider.js wires it in.
// docs/integrating-an-idp.md is the prose version of this file.

import { randomUUID } from 'node:crypto';
import * as jose from 'jose';

/** Detour's answer or result was not usable: the login fails with `error`. */
export class DetourError extends Error {
  constructor(error, description) {
    super(description);
    this.error = error;
  }
}

/**
 * @param {object} settings
 * @param {string} settings.apiUrl       Detour as this server reaches it
 * @param {string} settings.publicUrl    Detour's server.public_url (the `iss` of results)
 * @param {string} settings.upstreamId   this IdP's upstream id in Detour's config (the `aud`)
 * @param {string} settings.apiKey       bearer key for POST /v1/post-login
 * @param {string} settings.resultSecret HS256 key of the result tokens (>= 32 bytes)
 * @param {string} settings.returnTo     this IdP's callback, registered in Detour's config
 */
export function detourClient({ apiUrl, publicUrl, upstreamId, apiKey, resultSecret, returnTo }) {
  const secret = new TextEncoder().encode(resultSecret);
  const usedJtis = jtiStore();

  /**
   * Runs the Actions for one login. Resolves with the outcome object
   * (`allow`, `deny`, `redirect` or `prompt`); rejects with a DetourError when
   * Detour refuses the call or cannot be reached. The error's description
   * goes to the client, so the details stay in this server's log.
   */
  async function postLogin(event, transactionId) {
    let response;
    try {
      response = await fetch(`${apiUrl}/v1/post-login`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ event, return_to: returnTo, transaction_id: transactionId }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (e) {
      console.error(`detour: POST /v1/post-login failed: ${e.message}`);
      throw new DetourError('temporarily_unavailable', 'the post-login step cannot be reached');
    }
    const body = await response.json().catch(() => ({}));
    if (response.status !== 200 || typeof body.outcome !== 'string') {
      // 400/401/413/415: this IdP's bug or config; 503: Detour is overloaded
      // or its store is down. Either way the login cannot go on.
      console.error(`detour: POST /v1/post-login answered ${response.status}: ${body.error_description ?? 'no outcome'}`);
      if (response.status === 503) throw new DetourError('temporarily_unavailable', 'the post-login step is busy');
      throw new DetourError('server_error', 'the post-login step failed');
    }
    return body;
  }

  /**
   * Verifies a result token from `return_to` (docs/protocol.md, "The result
   * token") and uses it up. In this order: HS256 with our secret, `iss`,
   * `aud`, `exp` without leeway; then `isPending(transaction_id)`, where the
   * caller says whether that id names a login of *this browser* waiting for
   * Detour; only then is the `jti` spent, so a token replayed from another
   * browser cannot use up the genuine one. Resolves with the payload, the
   * outcome; rejects with a DetourError.
   */
  async function verifyResult(token, isPending) {
    let payload;
    try {
      ({ payload } = await jose.jwtVerify(token, secret, {
        algorithms: ['HS256'],
        issuer: publicUrl,
        audience: upstreamId,
        requiredClaims: ['iss', 'aud', 'exp', 'jti'],
        clockTolerance: 0,
      }));
    } catch (e) {
      throw new DetourError('invalid_request', `the result token is not valid: ${e.message}`);
    }
    // jose accepts an `aud` list that names us; Detour's is exactly our id.
    if (payload.aud !== upstreamId) throw new DetourError('invalid_request', 'the result token is for another audience');
    const transactionId = payload.transaction_id;
    if (typeof transactionId !== 'string' || !(await isPending(transactionId))) {
      throw new DetourError('invalid_request', 'the result is for a login this browser did not start here, or one that has ended');
    }
    const spent = usedJtis.spend(payload.jti, payload.exp);
    if (spent) throw new DetourError('invalid_request', `the result token ${spent}`);
    return payload;
  }

  return { postLogin, verifyResult };
}

/**
 * The Auth0-shaped post-login event for one authorization request.
 *
 * @param {object} login
 * @param {object} login.params   the authorization request's parameters
 * @param {object} login.client   { client_id, name }
 * @param {object} login.user     the account (see accounts.js)
 * @param {object} login.request  { ip, hostname, method, userAgent, language }
 * @param {string} login.transactionId the id Detour echoes in the result token
 */
export function postLoginEvent({ params, client, user, request, transactionId }) {
  const query = Object.fromEntries(
    Object.entries(params).filter(([, value]) => typeof value === 'string'),
  );
  const list = (value) => (value ? value.split(' ').filter(Boolean) : []);
  const audience = params.resource ?? params.audience;
  return {
    user: {
      user_id: user.user_id,
      email: user.email,
      email_verified: true,
      name: user.name,
      given_name: user.given_name,
      family_name: user.family_name,
      nickname: user.given_name.toLowerCase(),
      created_at: user.created_at,
      updated_at: user.updated_at,
      app_metadata: user.app_metadata,
      user_metadata: user.user_metadata,
      identities: [{ connection: 'demo-users', provider: 'oidc-provider', user_id: user.user_id, isSocial: false }],
    },
    client: { client_id: client.client_id, name: client.name ?? client.client_id, metadata: {} },
    connection: { id: 'con_demo_users', name: 'demo-users', strategy: 'auth0', metadata: {} },
    request: {
      ip: request.ip,
      hostname: request.hostname,
      method: request.method,
      user_agent: request.userAgent,
      language: request.language,
      // Detour reads `prompt=none` here: api.redirect.canRedirect() is false
      // and an Action that redirects ends the login with interaction_required.
      query,
      body: {},
    },
    transaction: {
      id: transactionId,
      protocol: 'oidc-basic-profile',
      requested_scopes: list(params.scope),
      prompt: list(params.prompt),
      redirect_uri: params.redirect_uri,
      response_type: list(params.response_type),
      response_mode: params.response_mode,
      state: params.state,
      login_hint: params.login_hint,
      ui_locales: list(params.ui_locales),
      acr_values: list(params.acr_values),
      metadata: {},
    },
    ...(audience ? { resource_server: { identifier: audience } } : {}),
    authorization: { roles: user.roles },
    authentication: { methods: [{ name: 'pwd', timestamp: user.last_login_at ?? new Date().toISOString() }] },
    stats: { logins_count: user.logins_count },
    tenant: { id: 'oidc-provider-demo' },
  };
}

/** A transaction id for a login that has none of its own. */
export const newTransactionId = () => randomUUID();

/**
 * The `jti`s of the result tokens already used, each remembered until its
 * token expires (from then on `exp` refuses a replay). `spend` answers why a
 * token cannot be used, or undefined after recording it. At most `limit` are
 * kept: when full, new tokens are refused rather than old jtis forgotten,
 * which would let those tokens be replayed. Several IdP instances share this
 * in a store instead: Redis `SET <jti> 1 NX EXAT <exp>`.
 */
export function jtiStore(limit = 100_000) {
  const used = new Map(); // jti -> exp (Unix seconds), oldest first
  return {
    spend(jti, exp, now = Math.floor(Date.now() / 1000)) {
      // Every token lives 120 s, so the expired ones are at the front.
      for (const [old, oldExp] of used) {
        if (oldExp >= now) break;
        used.delete(old);
      }
      if (used.has(jti)) return 'was already used';
      if (used.size >= limit) return 'cannot be checked for replay now (too many recent logins)';
      used.set(jti, exp);
      return undefined;
    },
    get size() {
      return used.size;
    },
  };
}

/**
 * Text for an OAuth `error_description`: RFC 6749 (4.1.2.1) allows only
 * printable ASCII without `"` and `\`. Detour's own descriptions quote
 * Action names, and a deny reason is whatever the Action wrote: quotes and
 * backslashes are replaced, any other character (control characters,
 * non-ASCII) becomes `?`, and the text is cut at 500 characters.
 */
export function oauthText(text) {
  const ascii = String(text)
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/gu, '?');
  return ascii.length > 500 ? `${ascii.slice(0, 497)}...` : ascii;
}

/** The `error`s a deny carries (docs/protocol.md, Outcomes). */
const DENY_ERRORS = new Set(['access_denied', 'interaction_required']);

/**
 * Claims the provider issues itself, about the token rather than the user:
 * an Action's claim with one of these names is dropped, whatever Detour let
 * through, so an Action can never change whom or what a token is for.
 */
export const PROTOCOL_CLAIMS = new Set([
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'azp', 'nonce', 'auth_time', 'acr', 'amr',
  'sid', 'at_hash', 'c_hash', 's_hash', 'cnf', 'scope', 'client_id', 'act', 'may_act',
  'authorization_details', 'active', 'token_type', 'username', 'typ', 'kid',
]);

/**
 * Outcome fields this provider leaves alone on purpose, and why. A field
 * that is neither here nor in HANDLED refuses the login (`refusal`), so a
 * new kind of effect is never ignored by accident.
 */
const IGNORED = {
  executions: 'a record of what ran',
  transaction_metadata: 'read by later Actions of the same login, inside Detour',
  refresh_token: 'this provider issues no refresh tokens',
  saml_response: 'this is not a SAML provider',
};
/** The fields `decide` acts on, and the result token's own claims (checked by verifyResult). */
const HANDLED = new Set([
  'outcome', 'error', 'error_description', 'location', 'prompt', 'id_token', 'access_token', 'user',
  'multifactor', 'authentication', 'session', 'validation_error',
  'iss', 'aud', 'iat', 'exp', 'jti', 'transaction_id',
]);
/**
 * The keys of `authentication` and `session` that `decide` knows. Of those,
 * recorded methods and session metadata (and its eviction) are kept
 * nowhere: this provider has no place for them, and they change no decision.
 */
const KNOWN_KEYS = {
  authentication: ['challenge', 'enroll', 'methods', 'primary_user'],
  session: ['revoke', 'expires_at', 'idle_expires_at', 'cookie_mode', 'metadata', 'evict_metadata'],
};

/**
 * Why this provider cannot carry out an allow, or undefined when it can:
 * what it cannot perform (a Form, MFA, another primary user, a shorter
 * session) or does not know.
 */
function refusal(outcome) {
  const unknown = Object.keys(outcome).filter((key) => !HANDLED.has(key) && !Object.hasOwn(IGNORED, key));
  for (const [section, keys] of Object.entries(KNOWN_KEYS)) {
    for (const key of Object.keys(outcome[section] ?? {})) {
      if (!keys.includes(key)) unknown.push(`${section}.${key}`);
    }
  }
  if (unknown.length) return `the outcome asks for ${unknown.join(', ')}, which this provider does not know`;
  const { authentication: auth = {}, session = {} } = outcome;
  if (outcome.outcome === 'prompt') return 'an Action rendered a Form, and this provider has no Forms';
  // enable('none') turns MFA off: nothing to perform.
  if ((outcome.multifactor && outcome.multifactor.provider !== 'none') || auth.challenge?.length || auth.enroll?.length) {
    return 'an Action requires multi-factor authentication, and this provider has no MFA step';
  }
  if (auth.primary_user) return 'an Action switched the primary user, and this provider does not link accounts';
  if (session.expires_at || session.idle_expires_at || session.cookie_mode === 'non-persistent') {
    return "an Action limited the session's lifetime, and this provider cannot";
  }
  if (outcome.validation_error) return 'an Action reported a validation error';
  if (outcome.outcome !== 'allow') return `Detour answered an unknown outcome (${outcome.outcome})`;
  return undefined;
}

/** An Action's claims for one token: an object, without PROTOCOL_CLAIMS. */
function actionClaims(claims) {
  if (!claims || typeof claims !== 'object' || Array.isArray(claims)) return {};
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !PROTOCOL_CLAIMS.has(name)));
}

const strings = (list) => (Array.isArray(list) ? list.filter((s) => typeof s === 'string') : []);

/**
 * What an outcome (an answer of POST /v1/post-login or a verified result
 * token) means for the login, as plain JSON the IdP can keep with it:
 *
 * - `{ allow: { idToken, accessToken, scopes: { add, remove } } }`: issue
 *   the tokens with these claims and scope changes;
 * - `{ error, error_description, endSession }`: fail the login with this
 *   OAuth error (the description already fit for OAuth), after ending the
 *   user's session when `endSession` (an Action called api.session.revoke).
 *
 * A `redirect` here is a login that cannot interact: `interaction_required`.
 * The metadata changes (`outcome.user`) are the caller's to write, for every
 * outcome (accounts.applyMetadata).
 */
export function decide(outcome) {
  const endSession = Boolean(outcome.session?.revoke);
  if (outcome.outcome === 'deny') {
    return {
      error: DENY_ERRORS.has(outcome.error) ? outcome.error : 'access_denied',
      error_description: oauthText(outcome.error_description || 'The login was denied.'),
      endSession,
    };
  }
  if (outcome.outcome === 'redirect') {
    return { error: 'interaction_required', error_description: 'an Action needs the user to interact', endSession: false };
  }
  const refused = refusal(outcome) ?? (endSession ? 'an Action revoked the session' : undefined);
  if (refused) return { error: 'access_denied', error_description: oauthText(refused), endSession };
  return {
    allow: {
      idToken: actionClaims(outcome.id_token?.claims),
      accessToken: actionClaims(outcome.access_token?.claims),
      scopes: {
        add: strings(outcome.access_token?.scopes?.add),
        remove: strings(outcome.access_token?.scopes?.remove),
      },
    },
  };
}
