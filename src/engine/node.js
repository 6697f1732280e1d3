// Node built-ins npm packages load through their normal entry points:
// `events`, `stream`, `string_decoder`, `assert`, `path`, `os`, `tty`
// (node_builtins.js, loaded on first require), and the `process` global.
// Deliberately small, pure JS: enough for jws/jwa, jsonwebtoken, jose,
// debug and axios's fetch adapter (see the README's "How the Node layer
// is built"). Modules that would open the
// sandbox (fs, net, http, child_process, ...) are not here: `require`
// refuses them.
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

  // ---- process --------------------------------------------------------------------
  // A Node 22-shaped process with an empty env. Its toStringTag is not
  // 'process', so axios does not take it for Node and picks its fetch
  // adapter instead of its http one.
  const started = performance.now();
  function hrtime(prev) {
    const now = performance.now();
    let s = Math.floor(now / 1000);
    let ns = Math.floor((now % 1000) * 1e6);
    if (prev) {
      s -= prev[0];
      ns -= prev[1];
      if (ns < 0) { s -= 1; ns += 1e9; }
    }
    return [s, ns];
  }
  hrtime.bigint = () => BigInt(Math.floor(performance.now() * 1e6));
  const noStream = (fd) => ({ fd, isTTY: false, write: () => true, on() { return this; }, once() { return this; }, end() {} });
  const process = {
    title: 'node',
    version: 'v22.12.0',
    versions: Object.freeze({ node: '22.12.0', modules: '127', uv: '1.49.1', v8: '12.4.254.21-node.21' }),
    release: Object.freeze({ name: 'node', lts: 'Jod' }),
    arch: 'x64',
    platform: 'linux',
    env: {},
    argv: ['/usr/local/bin/node', 'action.js'],
    argv0: 'node',
    execArgv: [],
    execPath: '/usr/local/bin/node',
    pid: 1,
    ppid: 0,
    exitCode: undefined,
    features: Object.freeze({}),
    config: Object.freeze({ variables: Object.freeze({}) }),
    cwd: () => '/',
    chdir: () => { throw new Error('process.chdir() is not available to Actions'); },
    umask: () => 0o22,
    uptime: () => (performance.now() - started) / 1000,
    hrtime,
    memoryUsage: Object.assign(() => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }), { rss: () => 0 }),
    cpuUsage: () => ({ user: 0, system: 0 }),
    nextTick,
    emitWarning: () => {},
    exit: () => { throw new Error('process.exit() is not available to Actions; return from the handler or call api.access.deny()'); },
    abort: () => { throw new Error('process.abort() is not available to Actions'); },
    kill: () => { throw new Error('process.kill() is not available to Actions'); },
    binding: (name) => { throw new Error(`No such module: ${name}`); },
    on() { return process; },
    once() { return process; },
    off() { return process; },
    addListener() { return process; },
    removeListener() { return process; },
    removeAllListeners() { return process; },
    prependListener() { return process; },
    emit: () => false,
    listeners: () => [],
    listenerCount: () => 0,
    stdout: noStream(1),
    stderr: noStream(2),
    stdin: noStream(0),
  };

  modules.process = process;
  globalThis.process = process;
  globalThis.global = globalThis;
})(globalThis.__detour_internal, globalThis.__detour_host);
