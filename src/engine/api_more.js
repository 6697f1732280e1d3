// The post-login `api` past access, idToken, accessToken and user, one
// file per namespace: multifactor, transaction (here), cache
// (api_cache.js), redirect (api_redirect.js), then
// (docs/auth0-compatibility.md#apiauthentication and after) authentication
// (api_authentication.js), session and refreshToken (api_session.js),
// samlResponse (api_saml.js), rules, validation (here) and prompt
// (api_prompt.js). The files are one module, concatenated in this order
// (engine/compile.rs), compiled to its own bytecode and loaded into a
// context when an execution first reads one of these namespaces
// (prelude.js, `host.loadModule('api')`): under per-execution isolation a
// context serves one execution, and most never use them. Like the rest of
// the api, every method only records a command; Rust merges them
// (src/pipeline/effects.rs).
//
// These objects are built once per context, not once per execution (building
// ~70 closures per login cost a quarter of the engine's time). A method finds
// its execution through `cur()`, which throws once that execution has ended;
// per-execution state (metadata seen so far, SAML attributes, ...) lives on
// the execution record, created on first use.
function build(api, cur, cmd, self, helpers) {
  const { jsonValue } = helpers; // the prelude's
  // In this order: it is the order of the api's keys.
  apiMultifactor(api, cmd, self, jsonValue);
  apiTransaction(api, cur, cmd);
  apiCache(api, cur, cmd);
  apiRedirect(api, cur, cmd, helpers);
  apiAuthentication(api, cur, cmd, self, jsonValue);
  apiSession(api, cur, cmd, self);
  apiSaml(api, cur, cmd, self, jsonValue);
  apiRules(api, cur);
  apiValidation(api, cmd, self);
  apiPrompt(api, cur, cmd);
}

// Shared by the namespaces' files.
const utf8Length = (s) => { let n = 0; for (const ch of s) { const c = ch.codePointAt(0); n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; } return n; };
const isString = (v) => typeof v === 'string';
const nonEmpty = (v) => isString(v) && v.length > 0;

function apiMultifactor(api, cmd, self, jsonValue) {
  const MFA_PROVIDERS = ['any', 'duo', 'guardian', 'google-authenticator', 'none'];
  api.multifactor = Object.freeze({
    enable(provider, options) {
      if (!MFA_PROVIDERS.includes(provider)) {
        throw new Error(`Invalid MFA provider "${provider}". Expected one of: ${MFA_PROVIDERS.join(', ')}.`);
      }
      const o = options || {};
      const mfa = { provider, allow_remember_browser: o.allowRememberBrowser === true };
      if (o.providerOptions !== undefined) mfa.provider_options = jsonValue(o.providerOptions);
      cmd({ op: 'multifactor', value: mfa });
      return self();
    },
  });
}

function apiTransaction(api, cur, cmd) {
  api.transaction = Object.freeze({
    setMetadata(key, value) {
      if (typeof key !== 'string' || key.length === 0 || key.length > 64) {
        throw new Error('The transaction metadata key must be a string of 1 to 64 characters.');
      }
      const t = typeof value;
      if (!(value === null || t === 'string' || t === 'boolean' || (t === 'number' && Number.isFinite(value)))) {
        throw new TypeError('Transaction metadata values must be a string, number, boolean or null.');
      }
      if (t === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
        throw new RangeError('Transaction metadata numbers must be safe integers.');
      }
      const md = cur().event.transaction.metadata;
      if (value === null) delete md[key]; else md[key] = value;
      cmd({ op: 'transaction_metadata', key, value });
    },
  });
}

// ---- api.rules, api.validation ------------------------------------------
function apiRules(api, cur) {
  api.rules = Object.freeze({
    wasExecuted(ruleId) {
      const run = cur();
      if (!run.rulesRun) {
        const r = run.event.rules_executed;
        run.rulesRun = Array.isArray(r) ? r.slice() : [];
      }
      return isString(ruleId) && run.rulesRun.includes(ruleId);
    },
  });
}

function apiValidation(api, cmd, self) {
  api.validation = Object.freeze({
    error(code, message) {
      if (!nonEmpty(code)) throw new TypeError('validation.error: the error code must be a non-empty string.');
      if (!isString(message)) throw new TypeError('validation.error: the error message must be a string.');
      cmd({ op: 'validation_error', code, message });
      return self();
    },
  });
}
