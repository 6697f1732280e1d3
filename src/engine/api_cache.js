// api.cache (docs/auth0-compatibility.md#apicache): part of the api module
// (api_more.js says how the files are put together).
function apiCache(api, cur, cmd) {
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

  api.cache = makeCache();
}
