// The post-login `api` past access, idToken, accessToken and user:
// multifactor, transaction, cache, redirect, then
// (docs/auth0-compatibility.md#apiauthentication and after) authentication,
// session, refreshToken, samlResponse, rules, validation and prompt. Compiled to its own bytecode and loaded into a context when an
// execution first reads one of these namespaces (prelude.js,
// `host.loadModule('api')`): under per-execution isolation a context
// serves one execution, and most never use them. Like the rest of the
// api, every method only records a command; Rust merges them
// (src/pipeline/effects.rs).
//
// These objects are built once per context, not once per execution (building
// ~70 closures per login cost a quarter of the engine's time). A method finds
// its execution through `cur()`, which throws once that execution has ended;
// per-execution state (metadata seen so far, SAML attributes, ...) lives on
// the execution record, created on first use.
export function build(api, cur, cmd, self, helpers) {
  apiCore(api, cur, cmd, self, helpers);
  apiMore(api, cur, cmd, self, helpers);
  apiPrompt(api, cur, cmd);
}

const utf8Length = (s) => { let n = 0; for (const ch of s) { const c = ch.codePointAt(0); n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; } return n; };

function apiCore(api, cur, cmd, self, helpers) {
  const { jsonValue, jsonParse, jsonStringify, host } = helpers; // the prelude's
  const MFA_PROVIDERS = ['any', 'duo', 'guardian', 'google-authenticator', 'none'];

  // api.cache limits (docs/auth0-compatibility.md#apicache); the default lifetime is the one
  // of Auth0's types and reference implementation.
  const CACHE = { defaultTtl: 15 * 60 * 1000, maxTtl: 24 * 60 * 60 * 1000, maxKey: 64,
                  maxValue: 4096, maxTotal: 8192, maxEntries: 20, maxWrites: 20 };
  // This execution's view of its Action's cache: the stored entries plus
  // its own writes, created on first use.
  function cacheOf() {
    const run = cur();
    if (!run.cache) {
      run.cache = { entries: Object.assign(Object.create(null), run.input.cache || {}), writes: 0 };
    }
    return run.cache;
  }
  function makeCache() {
    const live = (entries, k) => { const e = entries[k]; return e && e.expires_at > Date.now() ? e : undefined; };
    const fail = (code) => ({ type: 'error', code });
    return Object.freeze({
      get(key) {
        const e = live(cacheOf().entries, String(key));
        return e ? { value: e.value, expires_at: e.expires_at } : undefined;
      },
      set(key, value, options) {
        key = String(key);
        value = String(value);
        const c = cacheOf();
        const entries = c.entries;
        if (c.writes >= CACHE.maxWrites) return fail('MaxSideEffectsExceeded');
        if (utf8Length(key) > CACHE.maxKey) return fail('CacheKeySizeExceeded');
        if (utf8Length(value) > CACHE.maxValue) return fail('CacheValueSizeExceeded');
        const now = Date.now();
        const o = options || {};
        let expires = now + CACHE.defaultTtl;
        if (o.ttl !== undefined || o.expires_at !== undefined) {
          const candidates = [];
          if (o.ttl !== undefined) {
            if (typeof o.ttl !== 'number' || !Number.isFinite(o.ttl) || o.ttl <= 0) return fail('InvalidExpiry');
            candidates.push(now + o.ttl);
          }
          if (o.expires_at !== undefined) {
            if (typeof o.expires_at !== 'number' || !Number.isFinite(o.expires_at)) return fail('InvalidExpiry');
            if (o.expires_at <= now) return fail('ItemAlreadyExpired');
            candidates.push(o.expires_at);
          }
          expires = Math.min(...candidates);
        }
        expires = Math.floor(Math.min(expires, now + CACHE.maxTtl));
        const others = Object.keys(entries).filter((k) => k !== key && live(entries, k));
        if (others.length >= CACHE.maxEntries) return fail('CacheSizeExceeded');
        const total = others.reduce((n, k) => n + utf8Length(k) + utf8Length(entries[k].value), 0);
        if (total + utf8Length(key) + utf8Length(value) > CACHE.maxTotal) return fail('CacheSizeExceeded');
        c.writes++;
        const record = { value, expires_at: expires };
        entries[key] = record;
        cmd({ op: 'cache_set', key, value, expires_at: expires });
        return { type: 'success', record: { value, expires_at: expires } };
      },
      delete(key) {
        key = String(key);
        const c = cacheOf();
        if (c.writes >= CACHE.maxWrites) return fail('MaxSideEffectsExceeded');
        if (!live(c.entries, key)) return fail('CacheKeyDoesNotExist');
        c.writes++;
        delete c.entries[key];
        cmd({ op: 'cache_delete', key });
        return { type: 'success' };
      },
    });
  }

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
  api.cache = makeCache();
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
      const r = jsonParse(host.buildUrl(String(url), jsonStringify(query)));
      if (!r.ok) throw new TypeError(r.error);
      if (run.rendered) throw new Error('Redirect and render commands cannot be used in the same action.');
      run.redirected = true;
      cmd({ op: 'redirect', url: r.url });
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

function apiMore(api, cur, cmd, self, helpers) {
  const { jsonValue } = helpers; // shared with the prelude
  const utf8 = utf8Length;
  const isString = (v) => typeof v === 'string';
  const nonEmpty = (v) => isString(v) && v.length > 0;

  // ---- api.authentication ------------------------------------------------
  const CHALLENGE_TYPES = ['otp', 'email', 'webauthn-platform', 'webauthn-roaming', 'recovery-code',
                           'phone', 'push', 'push-notification'];
  const ENROLL_TYPES = ['otp', 'webauthn-platform', 'webauthn-roaming', 'push', 'push-notification',
                        'recovery-code', 'phone'];
  function factor(f, allowed, what) {
    if (f === null || typeof f !== 'object' || Array.isArray(f)) {
      throw new TypeError(`${what}: a factor must be an object like { type: 'otp' }.`);
    }
    if (!allowed.includes(f.type)) {
      throw new TypeError(`${what}: invalid factor type "${f.type}". Expected one of: ${allowed.join(', ')}.`);
    }
    const out = { type: f.type };
    if (f.options !== undefined) {
      const o = f.options;
      if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TypeError(`${what}: factor options must be an object.`);
      if (f.type === 'phone' && o.preferredMethod !== undefined && !['sms', 'voice', 'both'].includes(o.preferredMethod)) {
        throw new TypeError(`${what}: phone preferredMethod must be one of: sms, voice, both.`);
      }
      if ((f.type === 'push' || f.type === 'push-notification') && o.otpFallback !== undefined && typeof o.otpFallback !== 'boolean') {
        throw new TypeError(`${what}: push otpFallback must be a boolean.`);
      }
      out.options = jsonValue(o);
    }
    return out;
  }
  function factorList(list, allowed, what) {
    if (!Array.isArray(list) || list.length === 0) throw new TypeError(`${what}: expected a non-empty array of factors.`);
    return list.map((f) => factor(f, allowed, what));
  }
  const withAdditional = (kind, allowed, what) => function (f, options) {
    const factors = [factor(f, allowed, what)];
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object') throw new TypeError(`${what}: options must be an object.`);
      if (options.additionalFactors !== undefined) factors.push(...factorList(options.additionalFactors, allowed, what));
    }
    cmd({ op: 'authentication', kind, any: false, factors });
  };
  const anyOf = (kind, allowed, what) => function (list) {
    cmd({ op: 'authentication', kind, any: true, factors: factorList(list, allowed, what) });
  };
  api.authentication = Object.freeze({
    challengeWith: withAdditional('challenge', CHALLENGE_TYPES, 'challengeWith'),
    challengeWithAny: anyOf('challenge', CHALLENGE_TYPES, 'challengeWithAny'),
    enrollWith: withAdditional('enroll', ENROLL_TYPES, 'enrollWith'),
    enrollWithAny: anyOf('enroll', ENROLL_TYPES, 'enrollWithAny'),
    recordMethod(providerUrl) {
      if (cur().handler !== 'onContinuePostLogin') {
        throw new Error('api.authentication.recordMethod() can only be used in onContinuePostLogin.');
      }
      if (!isString(providerUrl) || !/^https?:\/\/[^\s]+$/i.test(providerUrl)) {
        throw new TypeError('recordMethod: the provider URL must be an http or https URL.');
      }
      cmd({ op: 'record_method', url: providerUrl, timestamp: new Date().toISOString() });
      return self();
    },
    setPrimaryUser(primaryUserId) {
      if (!nonEmpty(primaryUserId)) throw new TypeError('setPrimaryUser: the primary user id must be a non-empty string.');
      if (primaryUserId.length > 128) throw new RangeError('setPrimaryUser: the primary user id must be at most 128 characters long.');
      const run = cur();
      if (run.primaryUserSet ?? run.input.primary_user_set === true) {
        throw new Error('The primary user can only be altered once per transaction');
      }
      run.primaryUserSet = true;
      cmd({ op: 'primary_user', user_id: primaryUserId });
    },
  });

  // ---- session / refresh-token metadata rules (impl) ----------------------
  const META_KEY = /^[a-zA-Z0-9_-]{1,255}$/;
  // The metadata as this execution has changed it so far: a copy of the
  // event's, taken on first use.
  function metaOf(target) {
    const run = cur();
    const slot = target === 'session' ? 'sessionMeta' : 'refreshMeta';
    if (!run[slot]) {
      const from = target === 'session' ? run.event.session : run.event.refresh_token;
      const m = from && from.metadata;
      run[slot] = Object.assign({}, m && typeof m === 'object' ? m : {});
    }
    return run[slot];
  }
  function metadataApi(target) {
    const what = target === 'session' ? 'session' : 'refresh token';
    return {
      setMetadata(key, value) {
        if (!isString(key) || !META_KEY.test(key)) {
          throw new TypeError(`The ${what} metadata key must match ^[a-zA-Z0-9_-]{1,255}$.`);
        }
        const meta = metaOf(target);
        if (value === null || value === undefined) {
          delete meta[key];
          cmd({ op: 'metadata', target, key, value: null });
          return self();
        }
        if (!isString(value)) throw new TypeError(`The ${what} metadata value must be a string.`);
        if (value.length > 255) throw new RangeError(`The ${what} metadata value must be at most 255 characters long.`);
        if (value.includes('\u0000')) throw new TypeError(`The ${what} metadata value must not contain NUL characters.`);
        if (!(key in meta) && Object.keys(meta).length >= 25) {
          throw new RangeError(`The ${what} metadata can hold at most 25 keys.`);
        }
        meta[key] = value;
        cmd({ op: 'metadata', target, key, value });
        return self();
      },
      deleteMetadata(key) {
        if (!isString(key) || !META_KEY.test(key)) {
          throw new TypeError(`The ${what} metadata key must match ^[a-zA-Z0-9_-]{1,255}$.`);
        }
        delete metaOf(target)[key];
        cmd({ op: 'metadata', target, key, value: null });
        return self();
      },
      evictMetadata() {
        const meta = metaOf(target);
        for (const k of Object.keys(meta)) delete meta[k];
        cmd({ op: 'evict_metadata', target });
        return self();
      },
    };
  }
  function epochMs(v, what) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new TypeError(`${what}: expected a time in milliseconds since the epoch.`);
    }
    return Math.floor(v);
  }
  const reasonOf = (r) => (r === undefined ? '' : String(r));

  api.session = Object.freeze(Object.assign({
    revoke(reason, options) {
      const o = options || {};
      if (o.preserveRefreshTokens !== undefined && typeof o.preserveRefreshTokens !== 'boolean') {
        throw new TypeError('session.revoke: preserveRefreshTokens must be a boolean.');
      }
      cmd({ op: 'revoke', target: 'session', reason: reasonOf(reason), preserve_refresh_tokens: o.preserveRefreshTokens === true });
      return self();
    },
    setExpiresAt(at) { cmd({ op: 'expiry', target: 'session', field: 'expires_at', at: epochMs(at, 'session.setExpiresAt') }); return self(); },
    setIdleExpiresAt(at) { cmd({ op: 'expiry', target: 'session', field: 'idle_expires_at', at: epochMs(at, 'session.setIdleExpiresAt') }); return self(); },
    setCookieMode(mode) {
      if (mode !== 'persistent' && mode !== 'non-persistent') {
        throw new TypeError('session.setCookieMode: the mode must be "persistent" or "non-persistent".');
      }
      cmd({ op: 'cookie_mode', mode });
      return self();
    },
  }, metadataApi('session')));

  const refreshOnline = () => {
    const t = cur().event.refresh_token;
    return t && t.access === 'online';
  };
  const refreshGuard = (name) => {
    if (refreshOnline()) throw new Error(`refreshToken.${name} cannot be used with an online refresh token.`);
  };
  const refreshMeta = metadataApi('refresh_token');
  api.refreshToken = Object.freeze({
    revoke(reason) {
      refreshGuard('revoke');
      const tx = cur().event.transaction;
      if (!(tx && tx.protocol === 'oauth2-refresh-token')) {
        throw new Error('refreshToken.revoke can only be used in a refresh token exchange (protocol oauth2-refresh-token).');
      }
      cmd({ op: 'revoke', target: 'refresh_token', reason: reasonOf(reason), preserve_refresh_tokens: false });
      return self();
    },
    setExpiresAt(at) { refreshGuard('setExpiresAt'); cmd({ op: 'expiry', target: 'refresh_token', field: 'expires_at', at: epochMs(at, 'refreshToken.setExpiresAt') }); return self(); },
    setIdleExpiresAt(at) { refreshGuard('setIdleExpiresAt'); cmd({ op: 'expiry', target: 'refresh_token', field: 'idle_expires_at', at: epochMs(at, 'refreshToken.setIdleExpiresAt') }); return self(); },
    setMetadata(k, v) { refreshGuard('setMetadata'); return refreshMeta.setMetadata(k, v); },
    deleteMetadata(k) { refreshGuard('deleteMetadata'); return refreshMeta.deleteMetadata(k); },
    evictMetadata() { refreshGuard('evictMetadata'); return refreshMeta.evictMetadata(); },
  });

  // ---- api.samlResponse (docs/auth0-compatibility.md#apisamlresponse) ----
  const samlOf = () => {
    const run = cur();
    return run.samlAttrs || (run.samlAttrs = Object.create(null));
  };
  const saml = {};
  const setting = (name, key, check) => {
    saml[name] = function (value) {
      cmd({ op: 'saml', key, value: check(value, name) });
      return self();
    };
  };
  const str = (max) => (v, name) => {
    if (!isString(v)) throw new TypeError(`samlResponse.${name}: expected a string.`);
    if (utf8(v) > max) throw new RangeError(`samlResponse.${name}: the value must be at most ${max} bytes.`);
    return v;
  };
  const bool = (v, name) => {
    if (typeof v !== 'boolean') throw new TypeError(`samlResponse.${name}: expected a boolean.`);
    return v;
  };
  const oneOf = (list) => (v, name) => {
    if (!list.includes(v)) throw new TypeError(`samlResponse.${name}: expected one of: ${list.join(', ')}.`);
    return v;
  };
  setting('setAudience', 'audience', str(2048));
  setting('setRecipient', 'recipient', str(2048));
  setting('setDestination', 'destination', str(2048));
  setting('setNameIdentifierFormat', 'name_identifier_format', str(512));
  setting('setAuthnContextClassRef', 'authn_context_class_ref', str(512));
  setting('setSigningCert', 'signing_cert', str(4096));
  setting('setEncryptionCert', 'encryption_cert', str(4096));
  setting('setEncryptionPublicKey', 'encryption_public_key', str(4096));
  setting('setCert', 'cert', str(4096));
  setting('setKey', 'key', str(4096));
  setting('setRelayState', 'relay_state', str(512));
  setting('setIssuer', 'issuer', str(512));
  for (const [name, key] of [['setCreateUpnClaim', 'create_upn_claim'],
    ['setPassthroughClaimsWithNoMapping', 'passthrough_claims_with_no_mapping'],
    ['setMapUnknownClaimsAsIs', 'map_unknown_claims_as_is'], ['setMapIdentities', 'map_identities'],
    ['setSignResponse', 'sign_response'], ['setIncludeAttributeNameFormat', 'include_attribute_name_format'],
    ['setTypedAttributes', 'typed_attributes']]) setting(name, key, bool);
  setting('setSignatureAlgorithm', 'signature_algorithm', oneOf(['rsa-sha256', 'rsa-sha1']));
  setting('setDigestAlgorithm', 'digest_algorithm', oneOf(['sha256', 'sha1']));
  setting('setEncryptionAlgorithm', 'encryption_algorithm', oneOf(['aes256-gcm', 'aes256-cbc']));
  setting('setLifetimeInSeconds', 'lifetime_in_seconds', (v, name) => {
    if (!Number.isInteger(v) || v <= 0) throw new TypeError(`samlResponse.${name}: expected a positive integer.`);
    return v;
  });
  setting('setNameIdentifierProbes', 'name_identifier_probes', (v, name) => {
    if (!Array.isArray(v) || !v.every(isString)) throw new TypeError(`samlResponse.${name}: expected an array of strings.`);
    if (v.length > 10) throw new RangeError(`samlResponse.${name}: at most 10 probes.`);
    v.forEach((p) => str(512)(p, name));
    return v.slice();
  });
  saml.setAttribute = function (attribute, value) {
    if (!nonEmpty(attribute)) throw new TypeError('samlResponse.setAttribute: the attribute name must be a non-empty string.');
    if (utf8(attribute) > 1024) throw new RangeError('samlResponse.setAttribute: the attribute name must be at most 1024 bytes.');
    const v = value === undefined ? null : jsonValue(value);
    if (v !== null && utf8(JSON.stringify(v)) > 2048) {
      throw new RangeError('samlResponse.setAttribute: the attribute value must be at most 2048 bytes.');
    }
    const samlAttrs = samlOf();
    if (!(attribute in samlAttrs) && Object.keys(samlAttrs).length >= 100) {
      throw new RangeError('samlResponse.setAttribute: at most 100 attributes can be changed.');
    }
    samlAttrs[attribute] = v;
    const total = Object.keys(samlAttrs).reduce((n, k) => n + utf8(k) + utf8(JSON.stringify(samlAttrs[k])), 0);
    if (total > 10240) {
      delete samlAttrs[attribute];
      throw new RangeError('samlResponse.setAttribute: the changed attributes must be at most 10 KB in total.');
    }
    cmd({ op: 'saml_attribute', name: attribute, value: v });
    return self();
  };
  api.samlResponse = Object.freeze(saml);

  // ---- api.rules, api.validation ------------------------------------------
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
  api.validation = Object.freeze({
    error(code, message) {
      if (!nonEmpty(code)) throw new TypeError('validation.error: the error code must be a non-empty string.');
      if (!isString(message)) throw new TypeError('validation.error: the error message must be a string.');
      cmd({ op: 'validation_error', code, message });
      return self();
    },
  });
}

// api.prompt.render (docs/auth0-compatibility.md#apipromptrender): suspends like a redirect; the upstream renders
// the Form and the browser comes back to /continue with its fields.
function apiPrompt(api, cur, cmd) {
  api.prompt = Object.freeze({
    render(formId, options) {
      const run = cur();
      if (run.redirected) throw new Error('Redirect and render commands cannot be used in the same action.');
      if (run.rendered) throw new Error('Only 1 render command per action is allowed.');
      if (typeof formId !== 'string' || formId.length === 0) throw new TypeError('prompt.render: the form id must be a non-empty string.');
      const o = options === undefined || options === null ? {} : options;
      if (typeof o !== 'object' || Array.isArray(o)) throw new TypeError('prompt.render: options must be an object.');
      const fields = o.fields === undefined ? {} : o.fields;
      const vars = o.vars === undefined ? {} : o.vars;
      for (const [name, v] of [['fields', fields], ['vars', vars]]) {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`prompt.render: options.${name} must be an object.`);
      }
      const text = JSON.stringify({ fields, vars });
      if (text.length > 24 * 1024) throw new RangeError('prompt.render: options must be at most 24 KiB of JSON.');
      run.rendered = true;
      const parsed = JSON.parse(text);
      cmd({ op: 'render', id: formId, fields: parsed.fields, vars: parsed.vars });
    },
  });
}
