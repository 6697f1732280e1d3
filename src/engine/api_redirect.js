// api.redirect: part of the api module (api_more.js says how the files are
// put together).
function apiRedirect(api, cur, cmd, helpers) {
  const { jsonValue, jsonParse, jsonStringify, host } = helpers; // the prelude's
  api.redirect = Object.freeze({
    canRedirect() { return cur().input.can_redirect === true; },
    encodeToken(options) {
      const event = cur().event;
      const o = options || {};
      if (typeof o.secret !== 'string' || o.secret.length === 0) {
        throw new TypeError('encodeToken: "secret" must be a non-empty string.');
      }
      const expiresIn = o.expiresInSeconds === undefined ? 900 : o.expiresInSeconds;
      if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
        throw new TypeError('encodeToken: "expiresInSeconds" must be a positive number.');
      }
      const iat = Math.floor(Date.now() / 1000);
      const claims = Object.assign({
        iat,
        iss: event.request.hostname,
        sub: event.user.user_id,
        exp: iat + Math.floor(expiresIn),
        ip: event.request.ip,
      }, jsonValue(o.payload) || {});
      return host.sign(o.secret, jsonStringify(claims));
    },
    sendUserTo(url, options) {
      const run = cur();
      const query = (options && options.query) || {};
      // The command's JSON text (an object: it starts with `{`), or why
      // the URL cannot be redirected to.
      const command = host.redirectCommand(String(url), jsonStringify(query));
      if (command[0] !== '{') throw new TypeError(command);
      if (run.rendered) throw new Error('Redirect and render commands cannot be used in the same action.');
      cmd(command);
      run.redirected = true;
      return run.api;
    },
    validateToken(options) {
      const run = cur();
      const event = run.event;
      const o = options || {};
      const name = o.tokenParameterName === undefined ? 'session_token' : String(o.tokenParameterName);
      if (typeof o.secret !== 'string' || o.secret.length === 0) {
        throw new TypeError('validateToken: "secret" must be a non-empty string.');
      }
      const cont = run.input.continue;
      const params = Object.assign({}, event.request.query, event.request.body);
      const token = params[name];
      if (typeof token !== 'string') {
        throw new Error(`There is no parameter called '${name}' available in either the POST body or query string.`);
      }
      const state = cont ? cont.state : '';
      const r = jsonParse(host.verify(token, o.secret, state, String(event.user.user_id)));
      if (!r.ok) throw new Error(`The session token is invalid: ${r.reason}`);
      return r.payload;
    },
  });
}
