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

  const modules = globalThis.__detour_builtin_modules;

  const nextTick = (fn, ...args) => queueMicrotask(() => fn(...args));

  // The modules (node_builtins.js) are loaded on first require: most
  // Actions never load them, and a context is set up for every execution
  // under per-execution isolation.
  const loadModule = host.loadModule;
  let built = null;
  for (const name of ['events', 'stream', 'stream/promises', 'string_decoder', 'assert', 'assert/strict', 'path', 'path/posix', 'os', 'tty']) {
    Object.defineProperty(modules, name, {
      get() { built = built || loadModule('node')(internal, nextTick); return built[name]; },
      enumerable: true,
      configurable: true,
    });
  }

  // ---- zlib, process ------------------------------------------------------------
  // Built on first use from node_process.js. One-shot deflate/inflate
  // (raw, zlib, gzip) in Rust (zlib.rs); a Node 22-shaped process with an
  // empty env.
  const started = performance.now();
  let extra = null;
  const getExtra = () => extra || (extra = loadModule('process')(host, nextTick, started));
  for (const name of ['zlib', 'process']) {
    Object.defineProperty(modules, name, {
      get() { return getExtra()[name]; },
      enumerable: true,
      configurable: true,
    });
  }
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
