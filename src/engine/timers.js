// Timers (setTimeout and the rest, `timers`, `timers/promises`). Compiled
// to its own bytecode and loaded into a context on first use (prelude.js,
// `host.loadModule('timers')`). Timers are promises on the engine's event
// loop (`sleep`, a host function); a pending timer never outlives the
// trigger run's deadline. Like Node, they return objects (with
// ref/unref/hasRef/refresh, and a number as their primitive value).
// `currentOf()` is the running execution's recorder, null between
// executions.
function build(sleep, currentOf, apply) {
  const { freeze, assign } = Object;
  let nextTimer = 1;
  const active = new Set();
  const TIMER_ID = Symbol('timerId');
  class Timeout {
    constructor(id) { this[TIMER_ID] = id; }
    ref() { return this; }
    unref() { return this; }
    hasRef() { return true; }
    refresh() { return this; }
    close() { active.delete(this[TIMER_ID]); return this; }
    [Symbol.toPrimitive]() { return this[TIMER_ID]; }
  }
  // A timer set by an execution ends with it (never fires in another
  // one); a timer set by module code at load time belongs to no
  // execution and runs whenever it is due.
  function schedule(callback, delay, args, repeat) {
    if (typeof callback !== 'function') throw new TypeError('The "callback" argument must be a function.');
    const id = nextTimer++;
    const owner = currentOf();
    const ms = Number(delay) > 0 ? Number(delay) : repeat ? 1 : 0;
    active.add(id);
    const wait = () => sleep(ms, owner !== null).then(() => {
      if (!active.has(id) || (owner !== null && currentOf() !== owner)) { active.delete(id); return; }
      if (!repeat) active.delete(id);
      apply(callback, undefined, args);
      if (repeat && active.has(id)) wait();
    });
    wait();
    return new Timeout(id);
  }
  const clear = (timer) => {
    const id = timer instanceof Timeout ? timer[TIMER_ID] : Number(timer);
    active.delete(id);
  };
  const timers = {
    setTimeout: function setTimeout(callback, delay, ...args) { return schedule(callback, delay, args, false); },
    setInterval: function setInterval(callback, delay, ...args) { return schedule(callback, delay, args, true); },
    setImmediate: function setImmediate(callback, ...args) { return schedule(callback, 0, args, false); },
    clearTimeout: function clearTimeout(timer) { clear(timer); },
    clearInterval: function clearInterval(timer) { clear(timer); },
    clearImmediate: function clearImmediate(timer) { clear(timer); },
  };
  const timersPromises = freeze({
    setTimeout: (ms, value, options) => new Promise((resolve, reject) => {
      const signal = options && options.signal;
      if (signal && signal.aborted) { reject(signal.reason); return; }
      const t = timers.setTimeout(() => resolve(value), ms);
      if (signal) signal.addEventListener('abort', () => { clear(t); reject(signal.reason); }, { once: true });
    }),
    setImmediate: (value) => new Promise((resolve) => { timers.setImmediate(() => resolve(value)); }),
  });

  return { timers, promises: timersPromises, module: freeze(assign({ promises: timersPromises }, timers)) };
}
