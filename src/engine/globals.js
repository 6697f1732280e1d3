// Globals and Node built-ins that Actions expect: Buffer, TextEncoder,
// TextDecoder, atob, btoa, structuredClone, crypto, URL, URLSearchParams,
// and the modules `require` serves (crypto, url, querystring, util, buffer).
// They are built on first use from base_globals.js: a context is set up
// for every execution under per-execution isolation, and most executions
// never touch them. Until then each global is an accessor; once read (or
// assigned) it is a plain property like any other global. prelude.js takes
// `__detour_builtin_modules` and `__detour_internal` into its closure and
// deletes them.
(function (host) {
  'use strict';

  const { defineProperty, freeze } = Object;
  // Never throws for a global object the Action froze: the getter still
  // answers.
  const tryDefine = Reflect.defineProperty;
  const loadModule = host.loadModule;
  let built = null;
  const get = () => built || (built = loadModule('globals')(host));

  const lazyGlobal = (name, enumerable, read) => {
    const settle = (value) => {
      tryDefine(globalThis, name, { __proto__: null, value, writable: true, enumerable, configurable: true });
    };
    defineProperty(globalThis, name, {
      __proto__: null,
      get() { const value = read(); settle(value); return value; },
      set(value) { settle(value); },
      enumerable,
      configurable: true,
    });
  };
  for (const name of ['Buffer', 'TextEncoder', 'TextDecoder', 'atob', 'btoa', 'structuredClone', 'URL', 'URLSearchParams', 'crypto']) {
    lazyGlobal(name, true, () => get().globals[name]);
  }
  lazyGlobal('CryptoKey', false, () => get().cryptoKey());

  const modules = { perf_hooks: freeze({ performance: globalThis.performance }) };
  for (const name of ['url', 'querystring', 'util', 'util/types', 'buffer', 'crypto']) {
    defineProperty(modules, name, { get() { return get().modules[name]; }, enumerable: true, configurable: true });
  }
  globalThis.__detour_builtin_modules = modules;
  // For web.js and node.js, which build on these; prelude.js deletes it.
  const internal = {};
  for (const name of ['utf8Encode', 'utf8Decode', 'bytesOf', 'concatBytes', 'randomBytes', 'Buffer', 'util']) {
    defineProperty(internal, name, { get() { return get().internal[name]; }, enumerable: true });
  }
  globalThis.__detour_internal = internal;
})(globalThis.__detour_host);
