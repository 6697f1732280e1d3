// Detour, seen from an identity provider: build the post-login event, call
// POST /v1/post-login, verify the result token that comes back through the
// browser. Nothing here knows about oidc-provider; provider.js wires it in.
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
  // jti -> exp (Unix seconds). A real IdP keeps this where every instance
  // sees it (Redis SET NX with the token's remaining lifetime).
  const usedJtis = new Map();

  /**
   * Runs the Actions for one login. Resolves with the outcome object
   * (`allow`, `deny`, `redirect` or `prompt`); rejects with a DetourError when
   * Detour refuses the call or cannot be reached.
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
      throw new DetourError('temporarily_unavailable', `Detour is not reachable: ${e.message}`);
    }
    const body = await response.json().catch(() => ({}));
    if (response.status !== 200 || typeof body.outcome !== 'string') {
      // 400/401/413/415: this IdP's bug or config; 503: Detour is overloaded
      // or its store is down. Either way the login cannot go on.
      const error = response.status === 503 ? 'temporarily_unavailable' : 'server_error';
      throw new DetourError(error, `Detour answered ${response.status}: ${body.error_description ?? 'no outcome'}`);
    }
    return body;
  }

  /**
   * Verifies a result token from `return_to` (docs/protocol.md, "The result
   * token"): HS256 with our secret, iss, aud, unexpired without leeway, and a
   * jti never seen before. Resolves with its payload, the outcome. The
   * caller checks `transaction_id` against the login it is completing.
   */
  async function verifyResult(token) {
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
    const now = Math.floor(Date.now() / 1000);
    for (const [jti, exp] of usedJtis) if (exp < now) usedJtis.delete(jti);
    if (usedJtis.has(payload.jti)) {
      throw new DetourError('invalid_request', 'the result token was already used');
    }
    usedJtis.set(payload.jti, payload.exp);
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
 * What the IdP has to refuse because this one cannot perform it: MFA
 * (`multifactor`, `authentication.challenge` / `enroll`) and Forms
 * (`prompt`). `undefined` when the outcome can be applied as it is.
 */
export function unsupported(outcome) {
  if (outcome.outcome === 'prompt') return 'an Action rendered a Form, and this provider has no Forms';
  if (outcome.multifactor || outcome.authentication?.challenge || outcome.authentication?.enroll) {
    return 'an Action requires multi-factor authentication, and this provider has no MFA step';
  }
  return undefined;
}
