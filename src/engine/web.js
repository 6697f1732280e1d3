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

  // `internal.timers()` is prelude.js's (an execution's timers end with
  // it), set before any class is built.
  let built = null;
  const get = () => built || (built = loadModule('web')(internal.globals(), internal.timers));
  internal.web = { get };

  // Each global is an accessor (lazy_globals.rs) until first read, then a
  // plain writable property like any other global.
  host.lazyGlobals(['Event', 'EventTarget', 'AbortController', 'AbortSignal', 'Headers', 'Blob', 'File', 'FormData', 'Request', 'Response'], false, (name) => get().classes[name]);
})(detourInternal, globalThis.__detour_host);
