// The Web platform surface npm packages expect next to `fetch`: Event,
// EventTarget, AbortController/AbortSignal, Headers, Blob, File, FormData,
// Request and Response. Plain JS over the bytes helpers of globals.js; the
// request itself is made by prelude.js's `fetch` through the Rust client
// (src/engine/fetch.rs), which enforces allow_hosts and the private-address
// guard whatever these classes are made to say.
(function (internal, host) {
  'use strict';

  // Built on first use (a global read or a fetch) from web_classes.js: a
  // context is set up for every execution under per-execution isolation,
  // and most never touch these classes.
  const loadModule = host.loadModule;
  // Taken now, and never throwing for a global object the Action froze.
  const tryDefine = Reflect.defineProperty;

  // prelude.js hands over its setTimeout/clearTimeout (an execution's
  // timers end with it).
  const timers = { setTimeout: null, clearTimeout: null };

  let built = null;
  const get = () => built || (built = loadModule('web')(internal.globals(), timers));
  internal.web = { timers, get };

  // Each global is an accessor until first read, then a plain writable
  // property like any other global.
  const settle = (name, value) => {
    tryDefine(globalThis, name, { __proto__: null, value, writable: true, enumerable: false, configurable: true });
    return value;
  };
  for (const name of ['Event', 'EventTarget', 'AbortController', 'AbortSignal', 'Headers', 'Blob', 'File', 'FormData', 'Request', 'Response']) {
    Object.defineProperty(globalThis, name, {
      get() { return settle(name, get().classes[name]); },
      set(value) { settle(name, value); },
      enumerable: false,
      configurable: true,
    });
  }
})(globalThis.__detour_internal, globalThis.__detour_host);
