/**
 * Action: blocked users cannot log in. The identity provider sets
 * `app_metadata.blocked`; the reason reaches the application as the
 * `error_description` of `access_denied`. `api.session.revoke` denies like
 * `api.access.deny` and also asks the identity provider to end the user's
 * session there, so a blocked user is signed out, not only turned away.
 *
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  if (event.user.app_metadata.blocked === true) {
    api.session.revoke('This account is blocked. Ask your administrator to unblock it.');
  }
};
