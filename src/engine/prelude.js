// Detour's JS side of the engine boundary. Evaluated once in every context,
// in one strict function (compile.rs), before the Action's own code. Its
// value, `internals`, goes to Rust only (never on the global object):
//   define(entryId, resolve, load, name, refused, lazyApi)  requires the
//     Action as a CommonJS module through Rust's resolver and loader
//     (lazyApi: build the less used api namespaces on first use, for a
//     context that serves one execution);
//   run(handler, inputJson, secretsJson, ...eventFields) -> string | Promise
//     (in a kept context secretsJson is undefined and the fields end with
//     `secrets`)
//     starts one execution with a fresh `event` and `api` and calls the
//     handler: the JSON report {commands, error} when it threw at once,
//     otherwise the handler's promise, which Rust settles with
//   settle() -> string, the report of an execution whose promise
//     fulfilled with no job queued (nothing else can run before it), or
//   wait(promise) -> Promise<string>, the report once it settles, after
//     the jobs queued before (an `await`, as Auth0 does).
//     Console lines go straight to Rust (host.log), so they survive an
//     execution that is stopped by a limit.
// The `api` only records commands; Rust applies them after the Action ends,
// as Auth0 does. Host functions (`__detour_host`) are taken into this closure
// and removed from the global object so Actions cannot call them directly.
//
// The Action runs in this realm and can replace any global or prototype
// method, so nothing here is trusted by Rust: every limit (console size,
// cache, claims, metadata, redirect URLs) is enforced again in Rust on the
// report (src/pipeline/commands/). This file still keeps its own state out
// of reach: intrinsics are captured before the Action loads, records have
// only the prelude's frozen prototype, and nothing is looked up through a
// global at run time.
//
// The api's methods are built once per context and find the running
// execution through `current`; each execution gets its own top-level `api`
// object over them. Between executions `current` is null and the api
// throws; an api kept in module scope from an earlier execution acts on the
// running one (of the same Action: contexts are per Action). Nothing an
// execution leaves behind runs during a later one: when it ends, Rust
// settles its pending timers and requests and drains the job queue
// (vm.rs), and the callbacks below drop results that belong to an
// execution that is over.
const internals = (function (host) {
  'use strict';

  const { stringify: jsonStringify, parse: jsonParse } = JSON;
  const { create, assign, freeze, keys, defineProperty } = Object;
  // Taken now: an Action may replace the globals before it requires.
  const ProxyCtor = Proxy;
  const ErrorCtor = Error;
  const hasOwn = Object.hasOwn;
  const { isArray } = Array;
  const apply = Reflect.apply;
  const PromiseCtor = Promise;
  const promiseResolve = Promise.resolve;
  const tryDefine = Reflect.defineProperty;
  // Appends without Array.prototype.push or an index setter an Action
  // could have put on Array.prototype.
  const append = (list, item) => {
    defineProperty(list, list.length, { value: item, writable: true, enumerable: true, configurable: true });
  };
  const loadModule = host.loadModule;
  let current = null; // the running execution's recorder
  let moduleExports = null;
  let loadError = null;

  // ---- console: captured per execution, capped -------------------------
  // Built on first read from console.js: an accessor until then, like the
  // lazy globals, then a plain property. Built once: an Action that froze
  // the global object first reads it through the accessor every time.
  let consoleBuilt = null;
  host.lazyGlobals(['console'], true, () => consoleBuilt || (consoleBuilt = loadModule('console')(host, () => current, jsonStringify)));

  // ---- timers ---------------------------------------------------------------
  // Timers are promises on the engine's event loop; a pending timer never
  // outlives the trigger run's deadline. Like Node, they return objects
  // (with ref/unref/hasRef/refresh, and a number as their primitive value).
  const internal = detourInternal; // globals.js's, in the prelude's scope
  // Built on first use from timers.js (a global read, `require('timers')`,
  // or AbortSignal.timeout): most Actions never set one.
  let timersBuilt = null;
  const sleep = host.sleep;
  const timersOf = () => timersBuilt || (timersBuilt = loadModule('timers')(sleep, () => current, apply));
  host.lazyGlobals(['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate'], true, (name) => timersOf().timers[name]);
  internal.timers = () => timersOf().timers; // for web.js (AbortSignal.timeout)

  // ---- fetch (WHATWG) -------------------------------------------------------
  // Built on an Action's first fetch from web_fetch.js: the request goes
  // through the Rust client, which enforces allow_hosts and the
  // private-address guard.
  const web = internal.web;
  let fetchBuilt = null;
  globalThis.fetch = async function fetch(input, init) {
    if (fetchBuilt === null) fetchBuilt = loadModule('fetch')(host, web, () => current, { jsonStringify, jsonParse, append });
    return fetchBuilt(input, init);
  };

  // ---- modules ------------------------------------------------------------
  // Node built-ins (globals.js), with or without the `node:` prefix, come
  // first, as in Node. Everything else is resolved by Rust (config/modules/code_set.rs
  // rules: the files read at start-up, declared packages, Actions Modules;
  // refused built-ins throw there) and evaluated from bytecode the first
  // time this context requires it, then cached per context by file id.
  const builtins = create(null); // built-in modules required so far
  const lazyModule = internal.lazyModule;
  const lazyBuiltin = (key) => {
    if (key === 'timers') return timersOf().module;
    if (key === 'timers/promises') return timersOf().promises;
    return lazyModule(key);
  };
  let hostResolve = null;
  let hostLoad = null;
  let hostName = null;
  let hostRefused = null;
  const cache = create(null);
  // Built-ins that would open the sandbox (http, fs, net, ...) are served
  // as stand-ins that throw on use (refused_modules.js, loaded on first
  // use; http and https keep their client calls over fetch).
  let refusedBuilt = null;
  const refusedModule = (key, message) => {
    if (refusedBuilt === null) {
      refusedBuilt = loadModule('refused')(loadModule, builtinOf, { create, assign, freeze, keys, hasOwn, ProxyCtor, ErrorCtor });
    }
    return refusedBuilt(key, message);
  };
  const builtinOf = (spec) => {
    const key = spec.startsWith('node:') ? spec.slice(5) : spec;
    if (hasOwn(builtins, key)) return builtins[key];
    const module = lazyBuiltin(key);
    if (module !== undefined) builtins[key] = module;
    return module;
  };
  const dirnameOf = (name) => (name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '.');
  function requireId(id) {
    const cached = cache[id];
    if (cached) return cached.exports;
    const filename = hostName(id);
    const module = { id: filename, filename, exports: {}, loaded: false, children: [], paths: [] };
    // Cached before it runs: a cycle gets the partial exports, as in Node.
    cache[id] = module;
    try {
      const loadedValue = hostLoad(id);
      if (typeof loadedValue === 'string') {
        module.exports = jsonParse(loadedValue);
      } else {
        const require = makeRequire(id);
        module.require = require;
        apply(loadedValue, module.exports, [module.exports, require, module, filename, dirnameOf(filename)]);
      }
    } catch (e) {
      delete cache[id]; // as Node: a module that threw is loaded again next time
      throw e;
    }
    module.loaded = true;
    return module.exports;
  }
  function makeRequire(fromId) {
    function require(name) {
      const spec = String(name);
      const builtin = builtinOf(spec);
      if (builtin !== undefined) return builtin;
      const refused = hostRefused(spec);
      if (refused !== null && refused !== undefined) return refusedModule(spec, refused);
      return requireId(hostResolve(fromId, spec));
    }
    require.resolve = function resolve(name) {
      const spec = String(name);
      if (builtinOf(spec) !== undefined) return spec;
      const refused = hostRefused(spec);
      if (refused !== null && refused !== undefined) return spec;
      return hostName(hostResolve(fromId, spec));
    };
    require.cache = cache;
    return require;
  }

  function define(entryId, resolveFn, loadFn, nameFn, refusedFn, lazyApi, defineAccessors) {
    if (!lazyApi) {
      fullParts();
      kept = loadModule('kept')(apply, jsonParse, tryDefine, () => (current === null ? null : current.event), ['access', 'idToken', 'accessToken', 'user', ...LAZY_PARTS], defineAccessors);
    }
    hostRefused = refusedFn;
    hostResolve = resolveFn;
    hostLoad = loadFn;
    hostName = nameFn;
    try {
      moduleExports = requireId(entryId);
    } catch (e) {
      loadError = e;
    }
    return loadError ? String(loadError && loadError.message !== undefined ? loadError.message : loadError) : null;
  }

  // ---- argument checks (Auth0's messages where known) ---------------------
  // Auth0 reserves one claim name; compared directly, not through an
  // array method an Action could replace.
  function checkClaim(key) {
    if (typeof key !== 'string' || key.length === 0) {
      throw new TypeError('The claim name must be a non-empty string.');
    }
    if (key === 'scope') throw new Error(`The "${key}" claim cannot be set.`);
  }
  function checkScope(scope) {
    if (typeof scope !== 'string') throw new TypeError('The scope must be a string.');
    const s = scope.trim();
    if (s.length === 0) throw new Error('The scope must not be empty.');
    if (s.length > 280) throw new Error('The scope must be at most 280 characters long.');
    if (/\s/.test(s)) throw new Error('The scope must not contain whitespace.');
    return s;
  }
  const jsonValue = (v) => (v === undefined ? null : jsonParse(jsonStringify(v) ?? 'null'));
  function checkMetadata(event, which) {
    // A user the Action has not read is the one Rust built, whose metadata
    // are objects: no need to parse it just to look.
    if (unreadField(event, 'user')) return;
    const m = event.user && event.user[which];
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      throw new Error(`Unexpected ${which} format. Must be a valid JSON object`);
    }
  }
  // ---- the api ------------------------------------------------------------
  const cur = () => {
    if (current === null) {
      throw new Error('This api object belongs to an execution that has ended; use the api passed to the running handler.');
    }
    return current;
  };
  // The execution's commands are one string, their JSON texts joined by
  // commas: a string has no prototype an Action could hook, and appending
  // to it costs a fifth of defining an array element (docs/performance.md).
  // The most used commands come as their JSON text: the value is
  // serialized once, when the Action passes it (as a copy would be), not
  // copied and then serialized again for the report.
  const cmd = (c) => {
    const rec = cur();
    const text = typeof c === 'string' ? c : jsonStringify(c);
    rec.commands = rec.commands === '' ? text : `${rec.commands},${text}`;
  };
  // A command's key and short string values repeat login after login (a
  // claim's name, a metadata key, a denial's reason): their JSON text is
  // kept per context. QuickJS's JSON.stringify costs about 5 k
  // instructions even for a short string (it builds a wrapper object and
  // two arrays); a lookup here costs a tenth (docs/performance.md). For a
  // string the text is what JSON.stringify writes: it looks up no toJSON
  // for one. Keys and values are kept apart, at most 256 of each and of at
  // most 128 characters, so many distinct values (emails) cannot crowd out
  // the keys. No JS reaches these tables: a login's value kept here is
  // never seen by another execution.
  const quoter = () => {
    const texts = create(null);
    let count = 0;
    return (s) => {
      if (s.length > 128) return jsonStringify(s);
      let q = texts[s];
      if (q === undefined) {
        q = jsonStringify(s);
        if (count < 256) {
          texts[s] = q;
          count += 1;
        }
      }
      return q;
    };
  };
  const quoteKey = quoter();
  const quote = quoter(); // values
  // An array of strings (a roles claim) is written from the quotes above,
  // reading what JSON.stringify reads, in its order (toJSON, length, each
  // element): anything else goes to JSON.stringify, which reads it again.
  const stringsText = (v) => {
    // The read JSON.stringify makes first, through whatever chain or Proxy.
    if (v.toJSON !== undefined) return undefined;
    const n = v.length;
    let out = '[';
    for (let i = 0; i < n; i++) {
      const e = v[i];
      if (typeof e !== 'string') return undefined;
      out += i === 0 ? quote(e) : `,${quote(e)}`;
    }
    return `${out}]`;
  };
  const valueText = (v) => {
    if (typeof v === 'string') return quote(v);
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (v === undefined) return 'null';
    return (isArray(v) && stringsText(v)) || (jsonStringify(v) ?? 'null');
  };
  const keyed = (op, key, value) => `{"op":"${op}","key":${quoteKey(key)},"value":${valueText(value)}}`;
  const self = () => cur().api;
  const claimSetter = (op) => function setCustomClaim(key, value) {
    checkClaim(key);
    cmd(keyed(op, key, value));
    return self();
  };
  const metadataSetter = (op, which) => function (key, value) {
    checkMetadata(cur().event, which);
    if (typeof key !== 'string' || key.length === 0) throw new TypeError('The metadata key must be a non-empty string.');
    cmd(keyed(op, key, value));
    return self();
  };
  const parts = {};
  parts.access = Object.freeze({
    deny(reason) {
      cmd(`{"op":"deny","reason":${quote(reason === undefined ? '' : String(reason))}}`);
      return self();
    },
  });
  parts.idToken = Object.freeze({ setCustomClaim: claimSetter('id_claim') });
  parts.accessToken = Object.freeze({
    setCustomClaim: claimSetter('access_claim'),
    addScope(scope) { cmd({ op: 'add_scope', scope: checkScope(scope) }); return self(); },
    removeScope(scope) { cmd({ op: 'remove_scope', scope: checkScope(scope) }); return self(); },
  });
  parts.user = Object.freeze({
    setUserMetadata: metadataSetter('user_metadata', 'user_metadata'),
    setAppMetadata: metadataSetter('app_metadata', 'app_metadata'),
  });
  Object.freeze(parts);
  // The rest of the api (api_more.js: multifactor and after) is built on
  // first use: under
  // per-execution isolation a context serves one execution, and most never
  // read these namespaces. Until then each is an accessor on the
  // execution's api; once read (or assigned) a plain property. Contexts
  // that serve many executions build it at load (`define`), so every api
  // is a plain copy.
  const LAZY_PARTS = freeze(['multifactor', 'transaction', 'cache', 'redirect', 'authentication', 'session', 'refreshToken', 'samlResponse', 'rules', 'validation', 'prompt']);
  let allParts = null;
  function fullParts() {
    if (allParts === null) {
      const all = assign({}, parts);
      loadModule('api')(all, cur, cmd, self, { jsonValue, jsonParse, jsonStringify, host });
      allParts = freeze(all);
    }
    return allParts;
  }
  // One accessor per lazy namespace, made once per context and shared by
  // its executions' api objects (the getter settles the value on the
  // object it was read from). Descriptors have no prototype, so nothing an
  // Action puts on Object.prototype changes what they say.
  let lazyDescriptors = null;
  function descriptors() {
    if (lazyDescriptors !== null) return lazyDescriptors;
    lazyDescriptors = create(null);
    // An index loop: an Action may have replaced the array iterator.
    for (let i = 0; i < LAZY_PARTS.length; i++) {
      const name = LAZY_PARTS[i];
      // Not settled on an object the Action froze: read, it still answers.
      const settle = (target, value) => {
        tryDefine(target, name, { __proto__: null, value, writable: true, enumerable: true, configurable: true });
      };
      lazyDescriptors[name] = {
        __proto__: null,
        get() { const value = fullParts()[name]; settle(this, value); return value; },
        set(value) { settle(this, value); },
        enumerable: true,
        configurable: true,
      };
    }
    return lazyDescriptors;
  }
  function newApi() {
    if (allParts !== null) return kept !== null ? kept.copyApi(allParts) : assign({}, allParts);
    const api = assign({}, parts);
    const lazy = descriptors();
    for (let i = 0; i < LAZY_PARTS.length; i++) defineProperty(api, LAZY_PARTS[i], lazy[LAZY_PARTS[i]]);
    return api;
  }

  // What the Action threw, as plain strings. The thrown value is the
  // Action's: its getters may throw or lie, so every read is guarded.
  function describe(e) {
    const read = (f, fallback) => { try { const v = f(); return typeof v === 'string' ? v : fallback; } catch (_) { return fallback; } };
    const message = read(() => (e && e.message !== undefined ? String(e.message) : String(e)), 'the Action threw a value that cannot be read');
    return {
      name: read(() => String((e && e.name) || 'Error'), 'Error'),
      message,
      stack: read(() => String((e && e.stack) || ''), ''),
    };
  }

  // ---- the event ------------------------------------------------------------
  // Rust hands the event over as its top-level fields, each key and value
  // as JSON text (`[key, value, key, value, …]`), or, to a context that
  // serves one execution, as one JSON text parsed whole. A kept context
  // (per_instance) parses a field when the Action first reads it
  // (kept_context.js, loaded by `define`).
  let kept = null;
  const eventOf = (fields) => (kept !== null ? kept.eventOf(fields) : jsonParse(fields[0]));
  const unreadField = (event, key) => kept !== null && kept.unreadField(event, key);

  // The report's JSON: the commands' texts go in as they are.
  const reportOf = (commands) => `{"commands":[${commands}],"error":null}`;

  // The records' prototype: `input` (the cache, canRedirect, the continue
  // state) is parsed on first read, then kept as the record's own
  // property. Most executions never read it, and parsing it every time
  // cost about 9 k instructions per execution in A (measured).
  const recordProto = freeze({
    __proto__: null,
    get input() {
      const input = jsonParse(this.inputJson);
      defineProperty(this, 'input', { value: input, writable: true, enumerable: true, configurable: true });
      return input;
    },
  });

  // The execution whose handler's promise Rust holds (between `run` and
  // `settle` or the end of `wait`).
  let pending = null;

  function run(handlerName, inputJson, secretsJson, ...eventFields) {
    const event = eventOf(eventFields);
    // Only the prelude's own prototype: a getter an Action puts on
    // Object.prototype never sees this record (its lazily created fields
    // are read as own properties).
    const rec = {
      __proto__: recordProto,
      commands: '', event, inputJson, handler: handlerName, redirected: false, rendered: false, logsFull: false,
      // Per execution and not frozen: an Action may hang its own helpers
      // on it (`api.noop = ...`); the shared parts under it are frozen.
      api: newApi(),
    };
    current = rec;
    try {
      if (loadError) throw loadError;
      const handler = moduleExports && moduleExports[handlerName];
      if (typeof handler !== 'function') {
        throw new Error(handlerName === 'onContinuePostLogin'
          ? 'The Action redirected but does not export onContinuePostLogin, so the login cannot resume.'
          : `The Action does not export ${handlerName}.`);
      }
      // A kept context gets the secrets as the event's last field, parsed
      // on first read like the others (vm.rs); a fresh one as their text.
      if (kept === null) event.secrets = jsonParse(secretsJson);
      // What `await` would take: the handler's own promise, or one for
      // what it returned (a thenable is followed as `await` follows it).
      const promise = apply(promiseResolve, PromiseCtor, [apply(handler, moduleExports, [event, rec.api])]);
      pending = rec;
      return promise;
    } catch (e) {
      return report(rec, true, e);
    }
  }

  // The report of `rec`: its commands, or what it threw; the execution is
  // over once it is written.
  function report(rec, threw, thrown) {
    try {
      return threw ? jsonStringify({ commands: [], error: describe(thrown) }) : reportOf(rec.commands);
    } catch (e) {
      return jsonStringify({ commands: [], error: describe(e) });
    } finally {
      if (pending === rec) pending = null;
      if (current === rec) current = null;
    }
  }

  const settle = () => report(pending, false);

  async function wait(promise) {
    const rec = pending;
    try {
      await promise;
    } catch (e) {
      return report(rec, true, e);
    }
    return report(rec, false);
  }

  return freeze({ run, settle, wait, define });
})(globalThis.__detour_host);
delete globalThis.__detour_host;
