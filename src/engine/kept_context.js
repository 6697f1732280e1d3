// What only a kept context (per_instance: one context serves many
// executions) needs: the event field by field, and a cheap copy of the api.
// Compiled to its own bytecode and loaded by the prelude's `define`; a
// context that serves one execution never loads it.
//
// The event: Rust hands it over as its top-level fields, each key and value
// as JSON text (`[key, value, key, value, …]`). A field is parsed when the
// Action first reads it: Actions read a few fields, and parsing the whole
// event for every Action was the largest part of an execution
// (docs/performance.md). Until then a field is an enumerable accessor; once
// read or assigned, a plain data property in its place, so keys, order,
// JSON.stringify, spreading and assignment see what they saw before.
//
// Loaded before the Action's code runs: everything used later is taken
// now, out of the Action's reach.
function build(apply, jsonParse, tryDefine, apiKeys, defineAccessors) {
  const { freeze, assign, keys, hasOwn, getPrototypeOf, getOwnPropertyDescriptor, defineProperty } = Object;
  // Appends without an index setter an Action put on Array.prototype.
  const append = (list, item) => {
    defineProperty(list, list.length, { value: item, writable: true, enumerable: true, configurable: true });
  };
  const { get: weakGet, set: weakSet } = WeakMap.prototype;
  const { get: mapGet, set: mapSet } = Map.prototype;
  // event -> its fields array; a field read but not settled on the object
  // (the Action froze it) is kept there as {value}.
  const unread = new WeakMap();
  // Each field's getter -> its key: tells a field still unread.
  const getterKeys = new WeakMap();

  const settleField = (target, key, value) => {
    tryDefine(target, key, { __proto__: null, value, writable: true, enumerable: true, configurable: true });
  };
  function readField(receiver, at, key) {
    // The event itself, or an object made from it (Object.create(event)).
    let target = receiver;
    let fields;
    while (target !== null && (typeof target === 'object' || typeof target === 'function')) {
      fields = apply(weakGet, unread, [target]);
      if (fields !== undefined) break;
      target = getPrototypeOf(target);
    }
    if (fields === undefined) return undefined;
    const text = fields[at + 1];
    if (typeof text !== 'string') return text.value;
    const value = jsonParse(text);
    fields[at + 1] = { __proto__: null, value };
    settleField(target, key, value);
    return value;
  }

  // The accessors per sequence of keys, `[key, get, set, …]` for
  // `defineAccessors` (accessors.rs), made once per context (an upstream
  // sends the same keys login after login); a few sequences are kept.
  const accessorSets = new Map();
  const MAX_ACCESSOR_SETS = 8;
  let kept = 0;
  function accessorsOf(fields) {
    let id = '';
    for (let i = 0; i < fields.length; i += 2) id += `${fields[i]}\u0000`; // keys as JSON
    let flat = apply(mapGet, accessorSets, [id]);
    if (flat !== undefined) return flat;
    flat = [];
    for (let i = 0; i < fields.length; i += 2) {
      const key = jsonParse(fields[i]);
      const at = i;
      const get = function () { return readField(this, at, key); };
      const set = function (value) { settleField(this, key, value); };
      apply(weakSet, getterKeys, [get, key]);
      append(flat, key);
      append(flat, get);
      append(flat, set);
    }
    if (kept < MAX_ACCESSOR_SETS) {
      kept += 1;
      apply(mapSet, accessorSets, [id, flat]);
    }
    return flat;
  }

  // Each execution's api: a literal of the shared namespaces costs a third
  // of assign()'s generic copy. It must have apiKeys, in order: checked once.
  let literalFits = null;
  const fits = (parts) => {
    const have = keys(parts);
    if (have.length !== apiKeys.length) return false;
    for (let i = 0; i < have.length; i++) if (have[i] !== apiKeys[i]) return false;
    return true;
  };

  return freeze({
    __proto__: null,
    copyApi(p) {
      if (literalFits === null) literalFits = fits(p);
      if (!literalFits) return assign({}, p);
      return {
        access: p.access, idToken: p.idToken, accessToken: p.accessToken, user: p.user,
        multifactor: p.multifactor, transaction: p.transaction, cache: p.cache, redirect: p.redirect,
        authentication: p.authentication, session: p.session, refreshToken: p.refreshToken,
        samlResponse: p.samlResponse, rules: p.rules, validation: p.validation, prompt: p.prompt,
      };
    },
    eventOf(fields) {
      const event = {};
      defineAccessors(event, accessorsOf(fields));
      apply(weakSet, unread, [event, fields]);
      return event;
    },
    // Whether `event[key]` is still the field Rust sent, unread.
    unreadField(event, key) {
      const d = getOwnPropertyDescriptor(event, key);
      return d !== undefined && hasOwn(d, 'get') && apply(weakGet, getterKeys, [d.get]) === key;
    },
  });
}
