// Globals and Node built-ins that Actions expect: Buffer, TextEncoder,
// TextDecoder, atob, btoa, structuredClone, crypto, URL, URLSearchParams,
// and the modules `require` serves (crypto, url, querystring, util, buffer).
// They are built on first use from base_globals.js: a context is set up
// for every execution under per-execution isolation, and most executions
// never touch them. Until then each global is an accessor; once read (or
// assigned) it is a plain property like any other global. prelude.js takes
// `__detour_builtin_modules`, `__detour_lazy_modules` and
// `__detour_internal` into its closure and deletes them.
(function (host) {
  'use strict';

  const { defineProperty, freeze } = Object;
  const tryDefine = Reflect.defineProperty;
  const loadModule = host.loadModule;
  let built = null;
  const get = () => built || (built = loadModule('globals')(host));

  // A global read (or assigned) for the first time becomes a plain
  // property holding `value`; the getter still answers if the Action froze
  // the global object.
  const settle = (name, enumerable, value) => {
    tryDefine(globalThis, name, { __proto__: null, value, writable: true, enumerable, configurable: true });
    return value;
  };
  for (const name of ['Buffer', 'TextEncoder', 'TextDecoder', 'atob', 'btoa', 'structuredClone', 'URL', 'URLSearchParams', 'crypto']) {
    defineProperty(globalThis, name, {
      __proto__: null,
      get() { return settle(name, true, get().globals[name]); },
      set(value) { settle(name, true, value); },
      enumerable: true,
      configurable: true,
    });
  }
  defineProperty(globalThis, 'CryptoKey', {
    __proto__: null,
    get() { return settle('CryptoKey', false, get().cryptoKey()); },
    set(value) { settle('CryptoKey', false, value); },
    enumerable: false,
    configurable: true,
  });

  globalThis.__detour_builtin_modules = { perf_hooks: freeze({ performance: globalThis.performance }) };
  // Built-in modules built on first require: name -> loader(name). Plain
  // properties, not accessors: defining an accessor costs a context
  // several times more, and only prelude.js's `require` reads these.
  const lazyModules = { __proto__: null };
  const fromGlobals = (name) => get().modules[name];
  for (const name of ['url', 'querystring', 'util', 'util/types', 'buffer', 'crypto']) lazyModules[name] = fromGlobals;
  globalThis.__detour_lazy_modules = lazyModules;
  // For web.js and node.js, whose modules build on these (`globals()`
  // builds them first); prelude.js deletes it.
  globalThis.__detour_internal = { globals: () => get().internal };
})(globalThis.__detour_host);
