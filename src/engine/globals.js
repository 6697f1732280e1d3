// Globals and Node built-ins that Actions expect: Buffer, TextEncoder,
// TextDecoder, atob, btoa, structuredClone, crypto, URL, URLSearchParams,
// and the modules `require` serves (crypto, url, querystring, util, buffer).
// They are built on first use from base_globals.js: a context is set up
// for every execution under per-execution isolation, and most executions
// never touch them. Until then each global is an accessor; once read (or
// assigned) it is a plain property like any other global. What web.js,
// node.js and prelude.js build on is `detourInternal`, a constant of the
// one function the prelude runs in (compile.rs): never on the global object.
const detourInternal = (function (host) {
  'use strict';

  const { freeze } = Object;
  const loadModule = host.loadModule;
  let built = null;
  const get = () => built || (built = loadModule('globals')(host));

  // Each global is an accessor (lazy_globals.rs) until first read or
  // assigned, then a plain property holding the value; the getter still
  // answers if the Action froze the global object.
  host.lazyGlobals(['Buffer', 'TextEncoder', 'TextDecoder', 'atob', 'btoa', 'structuredClone', 'URL', 'URLSearchParams', 'crypto'], true, (name) => get().globals[name]);
  host.lazyGlobals(['CryptoKey'], false, () => get().cryptoKey());

  // Built-in modules built on first require: `lazyModule(name)` answers
  // the module, or undefined for a name that is none of these (node.js
  // and prelude.js add theirs). A switch rather than a table: it costs a
  // context nothing until a module is required.
  const performance = globalThis.performance;
  const lazyModule = (name) => {
    switch (name) {
      case 'url': case 'querystring': case 'util': case 'util/types': case 'buffer': case 'crypto':
        return get().modules[name];
      case 'perf_hooks':
        return freeze({ performance });
      default:
        return undefined;
    }
  };
  // For web.js and node.js, whose modules build on these (`globals()`
  // builds them first), and prelude.js.
  return { globals: () => get().internal, lazyModule };
})(globalThis.__detour_host);
