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
// JSON.stringify, spreading and assignment see what they saw before, and
// it answers as a data property whatever the receiver (a Proxy of the
// event, Reflect.get, a copy of its descriptors) and when the Action
// sealed the event. What still shows: an unread field's descriptor is an
// accessor, and redefining one with a partial data descriptor
// (`{writable: false}`) leaves it undefined, as it would an accessor.
//
// Loaded before the Action's code runs: everything used later is taken
// now, out of the Action's reach.
function build(apply, jsonParse, tryDefine, currentEvent, apiKeys, defineAccessors) {
  const { freeze, assign, keys, hasOwn, isFrozen, getPrototypeOf, getOwnPropertyDescriptor, defineProperty } = Object;
  // Appends without an index setter an Action put on Array.prototype.
  const append = (list, item) => {
    defineProperty(list, list.length, { value: item, writable: true, enumerable: true, configurable: true });
  };
  const { get: weakGet, set: weakSet } = WeakMap.prototype;
  // eslint-disable-next-line no-restricted-properties
  const lookupGetter = Object.prototype.__lookupGetter__;
  const { get: mapGet, set: mapSet } = Map.prototype;
  // event -> its fields array; a field read but not settled on the object
  // (the Action froze or sealed it) is kept there as {value}.
  const unread = new WeakMap();
  // Each field's getter -> {key, at, keyJson}: tells a field still unread.
  const getterKeys = new WeakMap();

  // The field as a data property in place of its accessor, keeping what
  // the Action made of its other attributes (`enumerable: false`), as a
  // data property's own would be kept.
  // One descriptor, its value set for each call and cleared after (it
  // must not keep a login's value alive). Reflect.defineProperty reads it
  // before any JS can run (a Proxy's trap gets a copy), so a nested call
  // cannot change what an outer one defines.
  const settled = { __proto__: null, value: undefined, writable: true };
  const settleField = (target, key, value) => {
    settled.value = value;
    try {
      return tryDefine(target, key, settled);
    } finally {
      settled.value = undefined; // also when a Proxy's trap threw
    }
  };
  // A new data property of a receiver that had none (Object.create(event)),
  // as assignment makes it.
  const newField = (target, key, value) => tryDefine(target, key, { __proto__: null, value, writable: true, enumerable: true, configurable: true });
  // The fields of `event` if field `at` of them is `keyJson` (getters and
  // setters are shared by the events that have the same keys, not by
  // others); never reads past the end, where Array.prototype could answer.
  const fieldsOf = (event, at, keyJson) => {
    const fields = apply(weakGet, unread, [event]);
    return fields !== undefined && at < fields.length && fields[at] === keyJson ? fields : undefined;
  };
  // The common read (the receiver is the event): `fieldsOf` and the
  // parse below are written out here, not called, because the calls cost
  // about 4 k instructions per login in A (measured).
  function readField(receiver, at, key, keyJson, get) {
    const fields = apply(weakGet, unread, [receiver]);
    if (fields === undefined || at >= fields.length || fields[at] !== keyJson) return readOther(receiver, at, key, keyJson, get);
    const text = fields[at + 1];
    if (typeof text !== 'string') return text.value;
    const value = jsonParse(text);
    fields[at + 1] = { __proto__: null, value };
    settleField(receiver, key, value);
    return value;
  }
  // Read from another receiver than the event.
  function readOther(receiver, at, key, keyJson, get) {
    // An object made from the event (Object.create(event)).
    let target = receiver;
    let fields;
    while (target !== null && (typeof target === 'object' || typeof target === 'function')) {
      fields = fieldsOf(target, at, keyJson);
      if (fields !== undefined) break;
      target = getPrototypeOf(target);
    }
    let settle = fields !== undefined;
    if (fields === undefined) {
      // Another receiver (a Proxy of the event, Reflect.get, an object
      // given the event's descriptors): a data property answers the same
      // whatever the receiver, so this answers the running execution's
      // event. (Such a receiver kept from an earlier execution reads the
      // running one's field, not its own: getters are shared.)
      target = currentEvent();
      fields = target === null ? undefined : fieldsOf(target, at, keyJson);
      if (fields === undefined) return undefined;
      const own = getOwnPropertyDescriptor(target, key);
      settle = own !== undefined && own.get === get;
    }
    const text = fields[at + 1];
    if (typeof text !== 'string') return text.value;
    const value = jsonParse(text);
    fields[at + 1] = { __proto__: null, value };
    if (settle) settleField(target, key, value);
    return value;
  }

  // The accessors per sequence of keys, `[key, get, set, …]` for
  // `defineAccessors` (accessors.rs), made once per context (an upstream
  // sends the same keys login after login); a few sequences are kept.
  const accessorSets = new Map();
  const MAX_ACCESSOR_SETS = 8;
  let kept = 0;
  // The last two sequences' keys and accessors, tried first: comparing
  // the keys costs less than building the id below (about 4 k
  // instructions per execution in A, measured). Two, because a resumed
  // login's event has its `request` moved to the end: a runtime that
  // serves logins and their `/continue`s sees both orders in turn. Only
  // the keys are kept, not the fields array, which holds the login's
  // values.
  let lastKeys = [];
  let lastFlat = null;
  let prevKeys = [];
  let prevFlat = null;
  const sameKeys = (fields, seen) => {
    if (fields.length !== seen.length * 2) return false;
    let i = 0;
    while (i < fields.length && fields[i] === seen[i >> 1]) i += 2;
    return i >= fields.length;
  };
  function accessorsOf(fields) {
    if (lastFlat !== null && sameKeys(fields, lastKeys)) return lastFlat;
    if (prevFlat !== null && sameKeys(fields, prevKeys)) {
      const keys = prevKeys;
      const flat = prevFlat;
      prevKeys = lastKeys;
      prevFlat = lastFlat;
      lastKeys = keys;
      lastFlat = flat;
      return flat;
    }
    const flat = accessorsByKeys(fields);
    const seen = [];
    for (let i = 0; i < fields.length; i += 2) append(seen, fields[i]);
    prevKeys = lastKeys;
    prevFlat = lastFlat;
    lastKeys = seen;
    lastFlat = flat;
    return flat;
  }
  function accessorsByKeys(fields) {
    let id = '';
    for (let i = 0; i < fields.length; i += 2) id += `${fields[i]}\u0000`; // keys as JSON
    let flat = apply(mapGet, accessorSets, [id]);
    if (flat !== undefined) return flat;
    flat = [];
    for (let i = 0; i < fields.length; i += 2) {
      const keyJson = fields[i];
      const key = jsonParse(keyJson);
      const at = i;
      const get = function () { return readField(this, at, key, keyJson, get); };
      // Assigned, the field is a data property of the receiver, as a plain
      // property's assignment makes it; on an event the Action sealed (not
      // frozen), the value is kept for later reads.
      const set = function (value) {
        if (hasOwn(this, key) ? settleField(this, key, value) : newField(this, key, value)) return;
        const own = fieldsOf(this, at, keyJson);
        if (own !== undefined && !isFrozen(this)) own[at + 1] = { __proto__: null, value };
      };
      apply(weakSet, getterKeys, [get, { __proto__: null, key, at, keyJson }]);
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
      // The own accessor's getter, without a descriptor object (undefined
      // for a data property). Own only: `hasOwn` on the event (an ordinary
      // object) runs no Action code, and the lookup then stops at it.
      if (!hasOwn(event, key)) return false;
      const get = apply(lookupGetter, event, [key]);
      const field = get !== undefined ? apply(weakGet, getterKeys, [get]) : undefined;
      if (field === undefined || field.key !== key) return false;
      const fields = fieldsOf(event, field.at, field.keyJson);
      return fields !== undefined && typeof fields[field.at + 1] === 'string';
    },
  });
}
