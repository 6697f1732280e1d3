// api.session and api.refreshToken: part of the api module (api_more.js
// says how the files are put together).
function apiSession(api, cur, cmd, self) {
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

}
