// The `console` global: lines go straight to Rust (`host.log`), so they
// survive an execution that is stopped by a limit. Compiled to its own
// bytecode and loaded into a context when an Action first reads `console`
// (prelude.js, `host.loadModule('console')`). The 64 KiB cap per execution
// is Rust's (console.rs): it holds whatever an Action does to this object.
// `currentOf()` is the running execution's recorder, null between
// executions (lines logged then are dropped); `jsonStringify` was taken
// before the Action loaded.
function build(host, currentOf, jsonStringify) {
  const show = (v) => {
    if (typeof v === 'string') return v;
    if (v instanceof Error) return v.stack ? `${v.name}: ${v.message}\n${v.stack}` : String(v);
    if (typeof v === 'function') return `[Function: ${v.name || 'anonymous'}]`;
    if (v === undefined) return 'undefined';
    try {
      const s = jsonStringify(v);
      return s === undefined ? String(v) : s;
    } catch (_) {
      return String(v);
    }
  };
  const record = (level) => (...args) => {
    const rec = currentOf();
    if (!rec || rec.logsFull) return;
    if (!host.log((level === 'log' || level === 'info' ? '' : `${level.toUpperCase()}: `) + args.map(show).join(' '))) {
      rec.logsFull = true; // later lines would be dropped: skip building them
    }
  };
  return Object.freeze({
    log: record('log'), info: record('info'), warn: record('warn'),
    error: record('error'), debug: record('debug'), trace: record('trace'),
  });
}
