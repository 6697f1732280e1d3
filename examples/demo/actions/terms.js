/**
 * Action: users accept the current terms of service before they log in.
 *
 * Users who have not accepted TERMS_VERSION are sent to the terms site with a
 * signed session_token; the site sends them back to /continue with a token
 * of its own that says whether they accepted.
 *
 * Secrets:
 *   TOS_SECRET   - HS256 key shared with the terms site
 *   TOS_SITE_URL - the terms site's base URL, e.g. http://localhost:8082
 *
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
const TERMS_VERSION = '2025-06';

exports.onExecutePostLogin = async (event, api) => {
  if (event.user.app_metadata.tos_accepted_version === TERMS_VERSION) {
    return;
  }

  // In a login that cannot redirect (prompt=none, a refresh token), this
  // sendUserTo ends the login with interaction_required, as on Auth0: the
  // application then starts an interactive login, which shows the terms.
  const token = api.redirect.encodeToken({
    secret: event.secrets.TOS_SECRET,
    expiresInSeconds: 600,
    payload: {
      email: event.user.email,
      name: event.user.name,
      terms_version: TERMS_VERSION,
    },
  });

  api.redirect.sendUserTo(`${event.secrets.TOS_SITE_URL}/terms`, {
    query: { session_token: token },
  });
};

/**
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onContinuePostLogin = async (event, api) => {
  // Throws (and so fails the login) unless the token is signed with the
  // shared secret, unexpired, for this user and for this /continue state.
  const payload = api.redirect.validateToken({
    secret: event.secrets.TOS_SECRET,
    tokenParameterName: 'session_token',
  });

  if (payload.tos_accepted !== true) {
    api.access.deny('The terms of service were declined.');
    return;
  }

  console.log(`terms ${payload.terms_version} accepted by ${event.user.user_id}`);
  api.user.setAppMetadata('tos_accepted', true);
  api.user.setAppMetadata('tos_accepted_version', payload.terms_version);
  const acceptedAt = typeof payload.accepted_at === 'number'
    ? new Date(payload.accepted_at * 1000)
    : new Date();
  api.user.setAppMetadata('tos_accepted_at', acceptedAt.toISOString());
};
