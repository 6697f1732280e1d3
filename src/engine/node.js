// Node built-ins npm packages load through their normal entry points:
// `events`, `stream`, `string_decoder`, `assert`, `path`, `os`, `tty`
// (node_builtins.js, loaded on first require), and the `process` global.
// Deliberately small, pure JS: enough for jws/jwa, jsonwebtoken, jose,
// debug and axios's fetch adapter (see the README's "How the Node layer
// is built"), and `zlib` over Rust. Modules that would open the sandbox
// (fs, net, http, child_process, ...) are not here: `require` serves them
// as stand-ins that throw on use (prelude.js).
(function (internal, host) {
  'use strict';

  const nextTick = (fn, ...args) => queueMicrotask(() => fn(...args));

  // The modules (node_builtins.js) are loaded on first require: most
  // Actions never load them, and a context is set up for every execution
  // under per-execution isolation.
  const loadModule = host.loadModule;
  let built = null;
  const fromNode = (name) => (built || (built = loadModule('node')(internal.globals(), nextTick)))[name];

  // ---- zlib, process ------------------------------------------------------------
  // Built on first use from node_process.js. One-shot deflate/inflate
  // (raw, zlib, gzip) in Rust (zlib.rs); a Node 22-shaped process with an
  // empty env.
  const started = performance.now();
  let extra = null;
  const getExtra = () => extra || (extra = loadModule('process')(host, nextTick, started));
  const lazyBefore = internal.lazyModule;
  internal.lazyModule = (name) => {
    switch (name) {
      case 'events': case 'stream': case 'stream/promises': case 'string_decoder': case 'assert':
      case 'assert/strict': case 'path': case 'path/posix': case 'os': case 'tty':
        return fromNode(name);
      case 'zlib': case 'process':
        return getExtra()[name];
      default:
        return lazyBefore(name);
    }
  };
  host.lazyGlobals(['process'], true, () => getExtra().process);
  globalThis.global = globalThis;
})(detourInternal, globalThis.__detour_host);
