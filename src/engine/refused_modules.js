// Built-ins that would open the sandbox (http, fs, net, ...): packages
// require them at load for paths an Action never takes (form-data's fs,
// jose's https.get), so requiring one succeeds, but any use of what it
// returns throws the message Rust gave (config/resolve/builtins.rs). Reads
// that module loaders and interop helpers make without using the module
// (typeof, symbols such as Symbol.toStringTag, __esModule, then, key
// enumeration) stay harmless. Compiled to its own bytecode and loaded into
// a context when an Action first requires such a module (prelude.js,
// `host.loadModule('refused')`); the intrinsics it uses were taken before
// the Action loaded.
function build(loadModule, builtinOf, { create, assign, freeze, keys, hasOwn, ProxyCtor, ErrorCtor }) {
  // http(s).request/get over fetch (http_client.js), loaded on first use.
  let httpBuild = null;
  const httpClient = (scheme) => (httpBuild || (httpBuild = loadModule('http')))(scheme, { builtinOf, assign, freeze });
  const refusedModules = create(null);
  return function refusedModule(key, message) {
    if (refusedModules[key]) return refusedModules[key];
    const fail = () => { throw new ErrorCtor(message); };
    // http and https keep their client calls, carried by fetch (so
    // allow_hosts and the private-address guard apply, in Rust): what
    // packages such as jose fetch a key set with. Servers, agents and the
    // rest stay refused.
    const name = key.startsWith('node:') ? key.slice(5) : key;
    const kept = name === 'http' || name === 'https' ? httpClient(name) : create(null);
    const proxy = new ProxyCtor(create(null), {
      get(_, prop) {
        if (typeof prop === 'string' && hasOwn(kept, prop)) return kept[prop];
        if (typeof prop === 'symbol' || prop === '__esModule' || prop === 'then') return undefined;
        return fail();
      },
      set: fail,
      defineProperty: fail,
      deleteProperty: fail,
      setPrototypeOf: fail,
      has: (_, prop) => typeof prop === 'string' && hasOwn(kept, prop),
      ownKeys: () => keys(kept),
      getOwnPropertyDescriptor: (_, prop) => (typeof prop === 'string' && hasOwn(kept, prop)
        ? { value: kept[prop], writable: false, enumerable: true, configurable: true } : undefined),
    });
    refusedModules[key] = proxy;
    return proxy;
  };
}
