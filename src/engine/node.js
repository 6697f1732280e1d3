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

  const lazyModules = globalThis.__detour_lazy_modules;

  const nextTick = (fn, ...args) => queueMicrotask(() => fn(...args));

  // The modules (node_builtins.js) are loaded on first require: most
  // Actions never load them, and a context is set up for every execution
  // under per-execution isolation.
  const loadModule = host.loadModule;
  let built = null;
  const fromNode = (name) => (built || (built = loadModule('node')(internal.globals(), nextTick)))[name];
  for (const name of ['events', 'stream', 'stream/promises', 'string_decoder', 'assert', 'assert/strict', 'path', 'path/posix', 'os', 'tty']) {
    lazyModules[name] = fromNode;
  }

  // ---- zlib, process ------------------------------------------------------------
  // Built on first use from node_process.js. One-shot deflate/inflate
  // (raw, zlib, gzip) in Rust (zlib.rs); a Node 22-shaped process with an
  // empty env.
  const started = performance.now();
  let extra = null;
  const getExtra = () => extra || (extra = loadModule('process')(host, nextTick, started));
  const fromExtra = (name) => getExtra()[name];
  lazyModules.zlib = fromExtra;
  lazyModules.process = fromExtra;
  const settle = (value) => {
    Reflect.defineProperty(globalThis, 'process', { __proto__: null, value, writable: true, enumerable: true, configurable: true });
    return value;
  };
  Object.defineProperty(globalThis, 'process', {
    get() { return settle(getExtra().process); },
    set(value) { settle(value); },
    enumerable: true,
    configurable: true,
  });
  globalThis.global = globalThis;
})(globalThis.__detour_internal, globalThis.__detour_host);
