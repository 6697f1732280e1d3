// Node built-ins for `require`: `events`, `stream`, `string_decoder`,
// `assert`, `path`, `os`, `tty`. Compiled to its own bytecode and loaded
// into a context only when an Action first requires one of them
// (node.js, `host.loadModule('node')`), so a context that never does pays
// nothing for them.
function build(internal, nextTick) {
  const { Buffer, utf8Decode } = internal;
  // ---- events --------------------------------------------------------------
  const EVENTS = Symbol('events');
  const events = (e) => {
    if (!Object.prototype.hasOwnProperty.call(e, EVENTS) || !e[EVENTS]) {
      Object.defineProperty(e, EVENTS, { value: new Map(), writable: true, configurable: true });
    }
    return e[EVENTS];
  };
  function EventEmitter(opts) {
    events(this);
    this.maxListeners = undefined;
    this.captureRejections = !!(opts && opts.captureRejections);
  }
  const errorMonitor = Symbol('events.errorMonitor');
  EventEmitter.prototype = {
    constructor: EventEmitter,
    addListener(name, fn) { return add(this, name, fn, false, false); },
    on(name, fn) { return add(this, name, fn, false, false); },
    prependListener(name, fn) { return add(this, name, fn, true, false); },
    once(name, fn) { return add(this, name, fn, false, true); },
    prependOnceListener(name, fn) { return add(this, name, fn, true, true); },
    removeListener(name, fn) {
      const list = events(this).get(name);
      if (!list) return this;
      const i = list.findLastIndex((l) => l.fn === fn || l.fn.listener === fn);
      if (i >= 0) {
        list.splice(i, 1);
        if (!list.length) events(this).delete(name);
        if (events(this).has('removeListener')) this.emit('removeListener', name, fn);
      }
      return this;
    },
    off(name, fn) { return this.removeListener(name, fn); },
    removeAllListeners(name) {
      if (name === undefined) events(this).clear(); else events(this).delete(name);
      return this;
    },
    emit(name, ...args) {
      if (name === 'error' && events(this).has(errorMonitor)) this.emit(errorMonitor, ...args);
      const list = events(this).get(name);
      if (!list || !list.length) {
        if (name === 'error') {
          const err = args[0];
          if (err instanceof Error) throw err;
          const e = new Error(`Unhandled error. (${String(err)})`);
          e.context = err;
          throw e;
        }
        return false;
      }
      for (const l of list.slice()) {
        if (l.once) this.removeListener(name, l.fn);
        Reflect.apply(l.fn, this, args);
      }
      return true;
    },
    listeners(name) { return (events(this).get(name) || []).map((l) => l.fn.listener || l.fn); },
    rawListeners(name) { return (events(this).get(name) || []).map((l) => l.fn); },
    listenerCount(name) { return (events(this).get(name) || []).length; },
    eventNames() { return Array.from(events(this).keys()); },
    setMaxListeners(n) { this.maxListeners = n; return this; },
    getMaxListeners() { return this.maxListeners === undefined ? EventEmitter.defaultMaxListeners : this.maxListeners; },
  };
  function add(emitter, name, fn, prepend, once) {
    if (typeof fn !== 'function') throw new TypeError('The "listener" argument must be of type function. Received ' + (fn === null ? 'null' : typeof fn));
    if (events(emitter).has('newListener')) emitter.emit('newListener', name, fn.listener || fn);
    const map = events(emitter);
    const list = map.get(name) || [];
    const entry = { fn, once };
    if (prepend) list.unshift(entry); else list.push(entry);
    map.set(name, list);
    return emitter;
  }
  EventEmitter.EventEmitter = EventEmitter;
  EventEmitter.defaultMaxListeners = 10;
  EventEmitter.errorMonitor = errorMonitor;
  EventEmitter.captureRejectionSymbol = Symbol.for('nodejs.rejection');
  EventEmitter.once = function once(emitter, name, options) {
    return new Promise((resolve, reject) => {
      const signal = options && options.signal;
      if (signal && signal.aborted) { reject(signal.reason); return; }
      if (typeof emitter.addEventListener === 'function' && typeof emitter.on !== 'function') {
        emitter.addEventListener(name, (e) => resolve([e]), { once: true, signal });
        return;
      }
      const onError = (err) => { emitter.removeListener(name, onEvent); reject(err); };
      const onEvent = (...args) => { if (name !== 'error') emitter.removeListener('error', onError); resolve(args); };
      emitter.once(name, onEvent);
      if (name !== 'error') emitter.once('error', onError);
      if (signal) signal.addEventListener('abort', () => { emitter.removeListener(name, onEvent); emitter.removeListener('error', onError); reject(signal.reason); }, { once: true });
    });
  };
  EventEmitter.listenerCount = (emitter, name) => emitter.listenerCount(name);
  EventEmitter.getEventListeners = (emitter, name) => (typeof emitter.listeners === 'function' ? emitter.listeners(name) : []);
  EventEmitter.setMaxListeners = () => {};
  EventEmitter.init = EventEmitter;
  // Node's `events.on` async iterator is not provided.

  // ---- stream ----------------------------------------------------------------
  // The classic Stream (jws's DataStream/SignStream inherit from it), and
  // small Readable/Writable/Duplex/Transform/PassThrough: push and 'data'
  // events, write/end with _write/_transform, pipe, async iteration. No
  // backpressure: everything an Action streams is already in memory.
  function Stream(opts) { EventEmitter.call(this, opts); }
  Object.setPrototypeOf(Stream.prototype, EventEmitter.prototype);
  Object.setPrototypeOf(Stream, EventEmitter);
  Stream.prototype.pipe = function pipe(dest, options) {
    const source = this;
    source.on('data', (chunk) => { if (dest.writable !== false) dest.write(chunk); });
    if (!options || options.end !== false) source.on('end', () => { if (typeof dest.end === 'function') dest.end(); });
    if (typeof dest.emit === 'function') dest.emit('pipe', source);
    if (typeof source.resume === 'function') source.resume();
    return dest;
  };

  function Readable(opts) {
    Stream.call(this, opts);
    const o = opts || {};
    this.readable = true;
    this.readableEnded = false;
    this.destroyed = false;
    this.readableObjectMode = !!(o.objectMode || o.readableObjectMode);
    this.readableEncoding = o.encoding || null;
    this._queue = [];
    this._flowing = null;
    this._ended = false;
    if (typeof o.read === 'function') this._read = o.read;
    if (typeof o.destroy === 'function') this._destroy = o.destroy;
  }
  Object.setPrototypeOf(Readable.prototype, Stream.prototype);
  Object.setPrototypeOf(Readable, Stream);
  Object.assign(Readable.prototype, {
    _read() {},
    push(chunk, enc) {
      if (chunk === null) { this._ended = true; this._drain(); return false; }
      let c = chunk;
      if (!this.readableObjectMode && typeof c === 'string') c = Buffer.from(c, enc);
      if (this.readableEncoding && !this.readableObjectMode) c = Buffer.from(c).toString(this.readableEncoding);
      this._queue.push(c);
      this._drain();
      return true;
    },
    unshift(chunk) { this._queue.unshift(chunk); },
    _drain() {
      if (this._draining) return;
      this._draining = true;
      nextTick(() => {
        this._draining = false;
        while (this._flowing && this._queue.length) this.emit('data', this._queue.shift());
        if (this._ended && !this._queue.length && !this.readableEnded && this._flowing !== false) {
          this.readableEnded = true;
          this.readable = false;
          this.emit('end');
          this.emit('close');
        }
      });
    },
    read() {
      if (!this._queue.length) { this._read(); return null; }
      if (this.readableObjectMode || this.readableEncoding) return this._queue.shift();
      const all = Buffer.concat(this._queue.splice(0));
      return all;
    },
    on(name, fn) {
      EventEmitter.prototype.on.call(this, name, fn);
      if (name === 'data' && this._flowing !== false) this.resume();
      if (name === 'end' || name === 'readable') this._drain();
      return this;
    },
    resume() { this._flowing = true; this._read(); this._drain(); return this; },
    pause() { this._flowing = false; return this; },
    isPaused() { return this._flowing === false; },
    setEncoding(enc) { this.readableEncoding = enc; return this; },
    destroy(err) {
      if (this.destroyed) return this;
      this.destroyed = true;
      const done = (e) => nextTick(() => { if (e) this.emit('error', e); this.emit('close'); });
      if (typeof this._destroy === 'function') this._destroy(err || null, done); else done(err);
      return this;
    },
    async *[Symbol.asyncIterator]() {
      const chunks = [];
      let done = false;
      let error = null;
      let wake = null;
      this.on('data', (c) => { chunks.push(c); if (wake) wake(); });
      this.on('end', () => { done = true; if (wake) wake(); });
      this.on('error', (e) => { error = e; if (wake) wake(); });
      for (;;) {
        if (error) throw error;
        if (chunks.length) { yield chunks.shift(); continue; }
        if (done) return;
        await new Promise((r) => { wake = r; });
        wake = null;
      }
    },
  });
  Readable.from = function from(iterable, opts) {
    const r = new Readable(Object.assign({ objectMode: true }, opts));
    (async () => {
      try {
        for await (const chunk of iterable) r.push(chunk);
        r.push(null);
      } catch (e) { r.destroy(e); }
    })();
    return r;
  };

  function Writable(opts) {
    Stream.call(this, opts);
    const o = opts || {};
    this.writable = true;
    this.writableEnded = false;
    this.writableFinished = false;
    this.destroyed = false;
    this.writableObjectMode = !!(o.objectMode || o.writableObjectMode);
    this.decodeStrings = o.decodeStrings !== false;
    if (typeof o.write === 'function') this._write = o.write;
    if (typeof o.final === 'function') this._final = o.final;
    if (typeof o.destroy === 'function') this._destroy = o.destroy;
  }
  Object.setPrototypeOf(Writable.prototype, Stream.prototype);
  Object.setPrototypeOf(Writable, Stream);
  Object.assign(Writable.prototype, {
    _write(chunk, enc, cb) { cb(); },
    write(chunk, enc, cb) {
      if (typeof enc === 'function') { cb = enc; enc = undefined; }
      if (this.writableEnded) {
        const err = new Error('write after end');
        err.code = 'ERR_STREAM_WRITE_AFTER_END';
        nextTick(() => { if (cb) cb(err); this.emit('error', err); });
        return false;
      }
      let c = chunk;
      if (!this.writableObjectMode && this.decodeStrings && typeof c === 'string') c = Buffer.from(c, enc);
      this._write(c, typeof chunk === 'string' ? (enc || 'utf8') : 'buffer', (err) => {
        if (err) this.emit('error', err);
        if (cb) cb(err);
      });
      return true;
    },
    end(chunk, enc, cb) {
      if (typeof chunk === 'function') { cb = chunk; chunk = undefined; }
      if (typeof enc === 'function') { cb = enc; enc = undefined; }
      if (chunk !== undefined && chunk !== null) this.write(chunk, enc);
      if (this.writableEnded) { if (cb) nextTick(cb); return this; }
      this.writableEnded = true;
      const finish = (err) => {
        if (err) { this.emit('error', err); return; }
        this.writableFinished = true;
        this.writable = false;
        if (cb) cb();
        this.emit('finish');
        this.emit('close');
      };
      if (typeof this._final === 'function') this._final(finish); else nextTick(finish);
      return this;
    },
    cork() {},
    uncork() {},
    setDefaultEncoding() { return this; },
    destroy: Readable.prototype.destroy,
  });

  function Duplex(opts) {
    Readable.call(this, opts);
    const readable = { readable: this.readable };
    Writable.call(this, opts);
    this.readable = readable.readable;
    this.allowHalfOpen = !(opts && opts.allowHalfOpen === false);
  }
  Object.setPrototypeOf(Duplex.prototype, Readable.prototype);
  Object.setPrototypeOf(Duplex, Readable);
  for (const k of ['write', 'end', 'cork', 'uncork', 'setDefaultEncoding', '_write']) Duplex.prototype[k] = Writable.prototype[k];

  function Transform(opts) {
    Duplex.call(this, opts);
    const o = opts || {};
    if (typeof o.transform === 'function') this._transform = o.transform;
    if (typeof o.flush === 'function') this._flush = o.flush;
  }
  Object.setPrototypeOf(Transform.prototype, Duplex.prototype);
  Object.setPrototypeOf(Transform, Duplex);
  Transform.prototype._transform = function (chunk, enc, cb) { cb(null, chunk); };
  Transform.prototype._write = function (chunk, enc, cb) {
    this._transform(chunk, enc, (err, data) => {
      if (err) { cb(err); return; }
      if (data !== undefined && data !== null) this.push(data);
      cb();
    });
  };
  Transform.prototype._final = function (cb) {
    const done = (err, data) => {
      if (err) { cb(err); return; }
      if (data !== undefined && data !== null) this.push(data);
      this.push(null);
      cb();
    };
    if (typeof this._flush === 'function') this._flush(done); else done();
  };
  function PassThrough(opts) { Transform.call(this, opts); }
  Object.setPrototypeOf(PassThrough.prototype, Transform.prototype);
  Object.setPrototypeOf(PassThrough, Transform);

  function finished(stream, opts, cb) {
    const callback = typeof opts === 'function' ? opts : cb;
    let called = false;
    const once = (err) => { if (!called) { called = true; callback(err); } };
    stream.on('end', () => once());
    stream.on('finish', () => once());
    stream.on('error', (e) => once(e));
    return () => {};
  }
  function pipeline(...streams) {
    const cb = typeof streams[streams.length - 1] === 'function' ? streams.pop() : null;
    const list = Array.isArray(streams[0]) ? streams[0] : streams;
    for (let i = 0; i + 1 < list.length; i++) list[i].pipe(list[i + 1]);
    const last = list[list.length - 1];
    if (cb) {
      for (const s of list) s.on('error', (e) => cb(e));
      finished(last, () => cb());
    }
    return last;
  }
  Object.assign(Stream, {
    Stream, Readable, Writable, Duplex, Transform, PassThrough, finished, pipeline,
    promises: {
      pipeline: (...s) => new Promise((resolve, reject) => pipeline(...s, (e) => (e ? reject(e) : resolve()))),
      finished: (s, o) => new Promise((resolve, reject) => finished(s, o, (e) => (e ? reject(e) : resolve()))),
    },
    isReadable: (s) => !!(s && s.readable),
    isErrored: () => false,
  });

  // ---- string_decoder ----------------------------------------------------------
  // UTF-8 characters and base64 groups split across chunks are held back
  // until the rest arrives.
  class StringDecoder {
    constructor(encoding) {
      const enc = String(encoding || 'utf8').toLowerCase().replace('-', '');
      if (!Buffer.isEncoding(enc)) throw new TypeError(`Unknown encoding: ${encoding}`);
      this.encoding = enc === 'utf8' ? 'utf8' : enc;
      this.pending = new Uint8Array(0);
    }
    write(buf) {
      const bytes = typeof buf === 'string' ? Buffer.from(buf) : Buffer.from(buf);
      const all = Buffer.concat([this.pending, bytes]);
      let keep = 0;
      if (this.encoding === 'utf8') {
        // Hold back an incomplete trailing sequence.
        for (let i = all.length - 1, n = 1; i >= 0 && n <= 4; i--, n++) {
          const b = all[i];
          if ((b & 0xc0) === 0x80) continue;
          const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
          if (need > n) keep = n;
          break;
        }
      } else if (this.encoding === 'base64' || this.encoding === 'base64url') {
        keep = all.length % 3;
      } else if (this.encoding === 'utf16le' || this.encoding === 'ucs2') {
        keep = all.length % 2;
      }
      this.pending = all.subarray(all.length - keep);
      const out = all.subarray(0, all.length - keep);
      return this.encoding === 'utf8' ? utf8Decode(out) : out.toString(this.encoding);
    }
    end(buf) {
      const head = buf === undefined ? '' : this.write(buf);
      const rest = this.pending;
      this.pending = new Uint8Array(0);
      return head + (rest.length ? Buffer.from(rest).toString(this.encoding) : '');
    }
  }

  // ---- assert ------------------------------------------------------------------
  class AssertionError extends Error {
    constructor(options) {
      const o = options || {};
      super(o.message !== undefined ? String(o.message) : `${internal.util.inspect(o.actual)} ${o.operator} ${internal.util.inspect(o.expected)}`);
      this.name = 'AssertionError';
      this.code = 'ERR_ASSERTION';
      this.actual = o.actual;
      this.expected = o.expected;
      this.operator = o.operator;
      this.generatedMessage = o.message === undefined;
    }
  }
  const fail = (actual, expected, message, operator) => {
    if (message instanceof Error) throw message;
    throw new AssertionError({ actual, expected, message, operator });
  };
  const deepEqual = internal.util.isDeepStrictEqual;
  const looseDeepEqual = (a, b) => {
    // eslint-disable-next-line eqeqeq
    if (a == b) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => looseDeepEqual(a[k], b[k]));
  };
  function matchesError(err, expected) {
    if (expected === undefined) return true;
    if (typeof expected === 'function') {
      if (expected.prototype !== undefined && err instanceof expected) return true;
      if (Error.isPrototypeOf(expected) || expected === Error) return false;
      return expected(err) === true;
    }
    if (expected instanceof RegExp) return expected.test(String(err && err.message !== undefined ? err.message : err));
    if (typeof expected === 'object') {
      return Object.keys(expected).every((k) => (expected[k] instanceof RegExp && typeof err[k] === 'string' ? expected[k].test(err[k]) : deepEqual(err[k], expected[k])));
    }
    return true;
  }
  function assert(value, message) { if (!value) fail(value, true, message === undefined ? 'The expression evaluated to a falsy value' : message, '=='); }
  Object.assign(assert, {
    ok: (value, message) => assert(value, message),
    // eslint-disable-next-line eqeqeq
    equal: (a, b, m) => { if (!(a == b || (a !== a && b !== b))) fail(a, b, m, '=='); },
    // eslint-disable-next-line eqeqeq
    notEqual: (a, b, m) => { if (a == b) fail(a, b, m, '!='); },
    strictEqual: (a, b, m) => { if (!Object.is(a, b)) fail(a, b, m, 'strictEqual'); },
    notStrictEqual: (a, b, m) => { if (Object.is(a, b)) fail(a, b, m, 'notStrictEqual'); },
    deepEqual: (a, b, m) => { if (!looseDeepEqual(a, b)) fail(a, b, m, 'deepEqual'); },
    notDeepEqual: (a, b, m) => { if (looseDeepEqual(a, b)) fail(a, b, m, 'notDeepEqual'); },
    deepStrictEqual: (a, b, m) => { if (!deepEqual(a, b)) fail(a, b, m, 'deepStrictEqual'); },
    notDeepStrictEqual: (a, b, m) => { if (deepEqual(a, b)) fail(a, b, m, 'notDeepStrictEqual'); },
    fail: (message) => fail(undefined, undefined, message === undefined ? 'Failed' : message, 'fail'),
    match: (s, re, m) => { if (!re.test(s)) fail(s, re, m, 'match'); },
    doesNotMatch: (s, re, m) => { if (re.test(s)) fail(s, re, m, 'doesNotMatch'); },
    ifError: (v) => { if (v !== null && v !== undefined) throw v; },
    throws(fn, expected, message) {
      try { fn(); } catch (e) {
        if (!matchesError(e, expected)) throw e;
        return;
      }
      fail(undefined, expected, typeof expected === 'string' ? expected : message || 'Missing expected exception.', 'throws');
    },
    doesNotThrow(fn, message) {
      try { fn(); } catch (e) { fail(e, undefined, typeof message === 'string' ? message : `Got unwanted exception.\nActual message: "${e && e.message}"`, 'doesNotThrow'); }
    },
    async rejects(p, expected, message) {
      try { await (typeof p === 'function' ? p() : p); } catch (e) {
        if (!matchesError(e, expected)) throw e;
        return;
      }
      fail(undefined, expected, typeof expected === 'string' ? expected : message || 'Missing expected rejection.', 'rejects');
    },
    async doesNotReject(p, message) {
      try { await (typeof p === 'function' ? p() : p); } catch (e) { fail(e, undefined, message || `Got unwanted rejection.\nActual message: "${e && e.message}"`, 'doesNotReject'); }
    },
    AssertionError,
  });
  assert.strict = assert;

  // ---- path (POSIX) ----------------------------------------------------------------
  function normalizeParts(parts, absolute) {
    const out = [];
    for (const p of parts) {
      if (!p || p === '.') continue;
      if (p === '..') { if (out.length && out[out.length - 1] !== '..') out.pop(); else if (!absolute) out.push('..'); } else out.push(p);
    }
    return out;
  }
  const checkPath = (p) => { if (typeof p !== 'string') throw new TypeError(`The "path" argument must be of type string. Received ${typeof p}`); return p; };
  const path = {
    sep: '/',
    delimiter: ':',
    normalize(p) {
      checkPath(p);
      if (p === '') return '.';
      const abs = p.startsWith('/');
      const trailing = p.endsWith('/');
      let out = normalizeParts(p.split('/'), abs).join('/');
      if (!out && !abs) out = '.';
      if (out && trailing) out += '/';
      return (abs ? '/' : '') + out;
    },
    join(...parts) { const j = parts.map(checkPath).filter((x) => x).join('/'); return j ? path.normalize(j) : '.'; },
    resolve(...parts) {
      let resolved = '';
      for (let i = parts.length - 1; i >= 0 && !resolved.startsWith('/'); i--) {
        const p = checkPath(parts[i]);
        if (p) resolved = resolved ? `${p}/${resolved}` : p;
      }
      if (!resolved.startsWith('/')) resolved = `/${resolved}`;
      const out = `/${normalizeParts(resolved.split('/'), true).join('/')}`;
      return out;
    },
    isAbsolute: (p) => checkPath(p).startsWith('/'),
    dirname(p) {
      checkPath(p);
      const trimmed = p.length > 1 ? p.replace(/\/+$/, '') : p;
      const i = trimmed.lastIndexOf('/');
      if (i < 0) return '.';
      if (i === 0) return '/';
      return trimmed.slice(0, i);
    },
    basename(p, ext) {
      checkPath(p);
      const trimmed = p.length > 1 ? p.replace(/\/+$/, '') : p;
      let base = trimmed.slice(trimmed.lastIndexOf('/') + 1);
      if (ext && base.endsWith(ext) && base !== ext) base = base.slice(0, -ext.length);
      return base;
    },
    extname(p) {
      const base = path.basename(p);
      const i = base.lastIndexOf('.');
      return i <= 0 ? '' : base.slice(i);
    },
    relative(from, to) {
      const a = path.resolve(from).split('/').filter(Boolean);
      const b = path.resolve(to).split('/').filter(Boolean);
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      return [...Array(a.length - i).fill('..'), ...b.slice(i)].join('/');
    },
    parse(p) {
      const root = checkPath(p).startsWith('/') ? '/' : '';
      const base = path.basename(p);
      const ext = path.extname(p);
      const dir = p.includes('/') ? path.dirname(p) : '';
      return { root, dir, base, ext, name: ext ? base.slice(0, -ext.length) : base };
    },
    format(o) {
      const dir = o.dir || o.root || '';
      const base = o.base || `${o.name || ''}${o.ext || ''}`;
      return dir ? (dir === o.root ? `${dir}${base}` : `${dir}/${base}`) : base;
    },
    toNamespacedPath: (p) => p,
  };
  path.posix = path;
  path.win32 = path;

  // ---- os, tty ------------------------------------------------------------------
  const os = Object.freeze({
    EOL: '\n',
    platform: () => 'linux',
    type: () => 'Linux',
    arch: () => 'x64',
    release: () => '',
    version: () => '',
    machine: () => 'x86_64',
    hostname: () => 'localhost',
    homedir: () => '/',
    tmpdir: () => '/tmp',
    endianness: () => 'LE',
    uptime: () => 0,
    loadavg: () => [0, 0, 0],
    totalmem: () => 0,
    freemem: () => 0,
    availableParallelism: () => 1,
    cpus: () => [],
    networkInterfaces: () => ({}),
    userInfo: () => ({ uid: -1, gid: -1, username: 'detour', homedir: '/', shell: null }),
    constants: Object.freeze({ signals: Object.freeze({}), errno: Object.freeze({}) }),
    devNull: '/dev/null',
  });
  // `debug` and `supports-color` only ask whether output is a terminal.
  const tty = Object.freeze({ isatty: () => false });

  return {
    events: EventEmitter,
    stream: Stream,
    'stream/promises': Stream.promises,
    string_decoder: Object.freeze({ StringDecoder }),
    assert,
    'assert/strict': assert,
    path,
    'path/posix': path,
    os,
    tty,
  };
}
