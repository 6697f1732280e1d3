// The Web classes behind `fetch`: Event, EventTarget, AbortController,
// AbortSignal, Headers, Blob, File, FormData, Request, Response. Compiled
// to its own bytecode and loaded into a context on first use (web.js,
// `host.loadModule('web')`). `timersOf()` answers the prelude's timers.
function build(internal, timersOf) {
  const { utf8Encode, utf8Decode, bytesOf, concatBytes, randomBytes } = internal;
  // ---- Event, EventTarget ----------------------------------------------------
  const LISTENERS = Symbol('listeners');
  const STOP = Symbol('stop');
  class Event {
    constructor(type, init) {
      if (type === undefined) throw new TypeError('The "type" argument must be specified');
      const o = init || {};
      this.type = String(type);
      this.bubbles = !!o.bubbles;
      this.cancelable = !!o.cancelable;
      this.composed = !!o.composed;
      this.defaultPrevented = false;
      this.isTrusted = false;
      this.timeStamp = performance.now();
      this.target = null;
      this.currentTarget = null;
      this[STOP] = false;
    }
    preventDefault() { if (this.cancelable) this.defaultPrevented = true; }
    stopPropagation() {}
    stopImmediatePropagation() { this[STOP] = true; }
    get [Symbol.toStringTag]() { return 'Event'; }
  }
  class EventTarget {
    constructor() { this[LISTENERS] = new Map(); }
    addEventListener(type, listener, options) {
      if (listener === null || listener === undefined) return;
      const once = !!(options && typeof options === 'object' && options.once);
      const signal = options && typeof options === 'object' ? options.signal : undefined;
      if (signal && signal.aborted) return;
      const map = this[LISTENERS];
      const list = map.get(String(type)) || [];
      if (list.some((l) => l.listener === listener)) return;
      list.push({ listener, once });
      map.set(String(type), list);
      if (signal) signal.addEventListener('abort', () => this.removeEventListener(type, listener), { once: true });
    }
    removeEventListener(type, listener) {
      const list = this[LISTENERS].get(String(type));
      if (!list) return;
      const i = list.findIndex((l) => l.listener === listener);
      if (i >= 0) list.splice(i, 1);
    }
    dispatchEvent(event) {
      if (!(event instanceof Event)) throw new TypeError('The "event" argument must be an instance of Event.');
      event.target = this;
      event.currentTarget = this;
      for (const entry of (this[LISTENERS].get(event.type) || []).slice()) {
        if (entry.once) this.removeEventListener(event.type, entry.listener);
        try {
          if (typeof entry.listener === 'function') entry.listener.call(this, event);
          else if (entry.listener && typeof entry.listener.handleEvent === 'function') entry.listener.handleEvent(event);
        } catch (e) {
          // As in Node and browsers, a throwing listener does not stop the
          // others; its error is reported, not thrown to the dispatcher.
          console.error(e);
        }
        if (event[STOP]) break;
      }
      event.currentTarget = null;
      return !event.defaultPrevented;
    }
  }

  // ---- AbortController, AbortSignal -------------------------------------------
  const ABORTED = Symbol('aborted');
  const REASON = Symbol('reason');
  const CREATE = Symbol('create');
  class AbortSignal extends EventTarget {
    constructor(key) {
      if (key !== CREATE) throw new TypeError('Illegal constructor');
      super();
      this[ABORTED] = false;
      this[REASON] = undefined;
      this.onabort = null;
    }
    get aborted() { return this[ABORTED]; }
    get reason() { return this[REASON]; }
    throwIfAborted() { if (this[ABORTED]) throw this[REASON]; }
    static abort(reason) {
      const s = new AbortSignal(CREATE);
      abortSignal(s, reason);
      return s;
    }
    static timeout(ms) {
      const delay = Number(ms);
      if (!Number.isFinite(delay) || delay < 0) throw new RangeError('The "delay" argument must be a non-negative number');
      const s = new AbortSignal(CREATE);
      timersOf().setTimeout(() => abortSignal(s, new DOMException('The operation was aborted due to timeout', 'TimeoutError')), delay);
      return s;
    }
    static any(signals) {
      const s = new AbortSignal(CREATE);
      const list = Array.from(signals);
      const done = list.find((x) => x.aborted);
      if (done) { abortSignal(s, done.reason); return s; }
      for (const x of list) x.addEventListener('abort', () => abortSignal(s, x.reason), { once: true });
      return s;
    }
    get [Symbol.toStringTag]() { return 'AbortSignal'; }
  }
  function abortSignal(signal, reason) {
    if (signal[ABORTED]) return;
    signal[ABORTED] = true;
    signal[REASON] = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    const event = new Event('abort');
    if (typeof signal.onabort === 'function') {
      try { signal.onabort.call(signal, event); } catch (e) { console.error(e); }
    }
    signal.dispatchEvent(event);
  }
  const SIGNAL = Symbol('signal');
  class AbortController {
    constructor() { this[SIGNAL] = new AbortSignal(CREATE); }
    get signal() { return this[SIGNAL]; }
    abort(reason) { abortSignal(this[SIGNAL], reason); }
    get [Symbol.toStringTag]() { return 'AbortController'; }
  }

  // ---- Headers -------------------------------------------------------------
  const LIST = Symbol('list');
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const headerName = (name) => {
    const n = String(name);
    if (!TOKEN.test(n)) throw new TypeError(`Header name must be a valid HTTP token ["${n}"]`);
    return n.toLowerCase();
  };
  const headerValue = (value) => {
    const v = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
    if (/[\0\r\n]/.test(v)) throw new TypeError(`Invalid header value: ${JSON.stringify(v)}`);
    return v;
  };
  class Headers {
    constructor(init) {
      this[LIST] = [];
      if (init === undefined || init === null) return;
      if (init instanceof Headers) { for (const [k, v] of init[LIST]) this[LIST].push([k, v]); return; }
      if (typeof init !== 'object') throw new TypeError('Headers: init must be an object, an array of pairs or a Headers');
      if (typeof init[Symbol.iterator] === 'function') {
        for (const pair of init) {
          const p = Array.from(pair);
          if (p.length !== 2) throw new TypeError('Headers: each header pair must be a [name, value] tuple');
          this.append(p[0], p[1]);
        }
      } else {
        for (const k of Object.keys(init)) this.append(k, init[k]);
      }
    }
    append(name, value) { this[LIST].push([headerName(name), headerValue(value)]); }
    set(name, value) {
      const n = headerName(name);
      const v = headerValue(value);
      const i = this[LIST].findIndex(([k]) => k === n);
      if (i < 0) { this[LIST].push([n, v]); return; }
      this[LIST][i] = [n, v];
      this[LIST] = this[LIST].filter(([k], j) => k !== n || j === i);
    }
    delete(name) { const n = headerName(name); this[LIST] = this[LIST].filter(([k]) => k !== n); }
    get(name) {
      const n = headerName(name);
      const values = this[LIST].filter(([k]) => k === n).map(([, v]) => v);
      return values.length ? values.join(', ') : null;
    }
    getSetCookie() { return this[LIST].filter(([k]) => k === 'set-cookie').map(([, v]) => v); }
    has(name) { const n = headerName(name); return this[LIST].some(([k]) => k === n); }
    // Sorted and combined, as the Fetch standard iterates (set-cookie
    // values stay separate).
    *entries() {
      const names = Array.from(new Set(this[LIST].map(([k]) => k))).sort();
      for (const n of names) {
        if (n === 'set-cookie') { for (const v of this.getSetCookie()) yield [n, v]; } else yield [n, this.get(n)];
      }
    }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    forEach(fn, thisArg) { for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this); }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return 'Headers'; }
  }

  // ---- Blob, File ----------------------------------------------------------
  const BYTES = Symbol('bytes');
  const TYPE = Symbol('type');
  const NAME = Symbol('name');
  const MTIME = Symbol('lastModified');
  const partBytes = (part) => {
    if (part instanceof Blob) return part[BYTES];
    if (part instanceof ArrayBuffer || ArrayBuffer.isView(part)) return bytesOf(part);
    return new Uint8Array(utf8Encode(String(part)));
  };
  class Blob {
    constructor(parts, options) {
      if (parts !== undefined && (parts === null || typeof parts[Symbol.iterator] !== 'function')) {
        throw new TypeError('The "blobParts" argument must be a sequence');
      }
      const type = options && options.type !== undefined ? String(options.type) : '';
      this[BYTES] = concatBytes(Array.from(parts || [], partBytes));
      this[TYPE] = /[^\u0020-\u007e]/.test(type) ? '' : type.toLowerCase();
    }
    get size() { return this[BYTES].length; }
    get type() { return this[TYPE]; }
    async text() { return utf8Decode(this[BYTES]); }
    async arrayBuffer() { return this[BYTES].slice().buffer; }
    async bytes() { return this[BYTES].slice(); }
    slice(start, end, type) { return new Blob([this[BYTES].slice(start, end)], { type: type === undefined ? '' : type }); }
    stream() { throw new TypeError('Blob.stream() is not supported by Detour: use arrayBuffer() or text()'); }
    get [Symbol.toStringTag]() { return 'Blob'; }
  }
  class File extends Blob {
    constructor(parts, name, options) {
      if (name === undefined) throw new TypeError('The "fileName" argument must be specified');
      super(parts, options);
      this[NAME] = String(name);
      this[MTIME] = options && options.lastModified !== undefined ? Number(options.lastModified) : Date.now();
    }
    get name() { return this[NAME]; }
    get lastModified() { return this[MTIME]; }
    get [Symbol.toStringTag]() { return 'File'; }
  }

  // ---- FormData ------------------------------------------------------------
  const formValue = (value, filename) => {
    if (value instanceof Blob) {
      if (value instanceof File && filename === undefined) return value;
      const name = filename !== undefined ? String(filename) : value instanceof File ? value.name : 'blob';
      return new File([value], name, { type: value.type });
    }
    return String(value);
  };
  class FormData {
    constructor(form) {
      if (form !== undefined) throw new TypeError('FormData: HTML form elements do not exist in Detour');
      this[LIST] = [];
    }
    append(name, value, filename) { this[LIST].push([String(name), formValue(value, filename)]); }
    set(name, value, filename) {
      const n = String(name);
      const v = formValue(value, filename);
      const i = this[LIST].findIndex(([k]) => k === n);
      if (i < 0) { this[LIST].push([n, v]); return; }
      this[LIST][i] = [n, v];
      this[LIST] = this[LIST].filter(([k], j) => k !== n || j === i);
    }
    get(name) { const e = this[LIST].find(([k]) => k === String(name)); return e ? e[1] : null; }
    getAll(name) { return this[LIST].filter(([k]) => k === String(name)).map(([, v]) => v); }
    has(name) { return this[LIST].some(([k]) => k === String(name)); }
    delete(name) { this[LIST] = this[LIST].filter(([k]) => k !== String(name)); }
    *entries() { for (const [k, v] of this[LIST].slice()) yield [k, v]; }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    forEach(fn, thisArg) { for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this); }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return 'FormData'; }
  }
  // multipart/form-data (RFC 7578), with the browsers' escaping of names.
  const escapeName = (s) => s.replace(/\r\n?|\n/g, '\r\n').replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
  function multipart(form) {
    const boundary = `----DetourFormBoundary${randomBytes(12).toString('hex')}`;
    const chunks = [];
    const text = (s) => chunks.push(new Uint8Array(utf8Encode(s)));
    for (const [name, value] of form[LIST]) {
      let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"`;
      if (value instanceof File) {
        head += `; filename="${escapeName(value.name)}"\r\nContent-Type: ${value.type || 'application/octet-stream'}`;
        text(`${head}\r\n\r\n`);
        chunks.push(value[BYTES]);
        text('\r\n');
      } else {
        text(`${head}\r\n\r\n${value.replace(/\r\n?|\n/g, '\r\n')}\r\n`);
      }
    }
    text(`--${boundary}--\r\n`);
    return { bytes: concatBytes(chunks), type: `multipart/form-data; boundary=${boundary}` };
  }

  // ---- bodies, Request, Response --------------------------------------------
  // A body is {text} or {bytes}: text stays a string to the Rust client so
  // the common JSON case is not re-encoded.
  const BODY = Symbol('body');
  const USED = Symbol('used');
  function extractBody(body) {
    if (body === undefined || body === null) return { body: null, type: null };
    if (typeof body === 'string') return { body: { text: body }, type: 'text/plain;charset=UTF-8' };
    if (body instanceof URLSearchParams) return { body: { text: body.toString() }, type: 'application/x-www-form-urlencoded;charset=UTF-8' };
    if (body instanceof FormData) { const m = multipart(body); return { body: { bytes: m.bytes }, type: m.type }; }
    if (body instanceof Blob) return { body: { bytes: body[BYTES] }, type: body.type || null };
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return { body: { bytes: Uint8Array.from(bytesOf(body)) }, type: null };
    if (typeof body === 'object' && typeof body[Symbol.asyncIterator] === 'function') {
      throw new TypeError('fetch: stream bodies are not supported by Detour; pass a string, Buffer, Blob, FormData or URLSearchParams');
    }
    return { body: { text: String(body) }, type: 'text/plain;charset=UTF-8' };
  }
  const bodyBytes = (b) => (b === null ? new Uint8Array(0) : b.bytes !== undefined ? b.bytes : new Uint8Array(utf8Encode(b.text)));
  const bodyText = (b) => (b === null ? '' : b.text !== undefined ? b.text : utf8Decode(b.bytes));
  function consume(r) {
    if (r[USED]) throw new TypeError('Body is unusable: Body has already been read');
    r[USED] = true;
    return r[BODY];
  }
  const bodyMixin = {
    get bodyUsed() { return this[USED]; },
    get body() {
      if (this[BODY] === null) return null;
      throw new TypeError('Response.body streams are not supported by Detour: use text(), json(), arrayBuffer() or blob()');
    },
    async text() { return bodyText(consume(this)); },
    async json() { return JSON.parse(bodyText(consume(this))); },
    async arrayBuffer() { return bodyBytes(consume(this)).slice().buffer; },
    async bytes() { return bodyBytes(consume(this)).slice(); },
    async blob() { const b = consume(this); return new Blob([bodyBytes(b)], { type: this.headers.get('content-type') || '' }); },
    async formData() {
      const type = this.headers.get('content-type') || '';
      const b = consume(this);
      if (!/^application\/x-www-form-urlencoded/i.test(type)) {
        throw new TypeError('formData(): only application/x-www-form-urlencoded bodies are parsed by Detour');
      }
      const fd = new FormData();
      for (const [k, v] of new URLSearchParams(bodyText(b))) fd.append(k, v);
      return fd;
    },
  };
  const mixBody = (cls) => Object.defineProperties(cls.prototype, Object.getOwnPropertyDescriptors(bodyMixin));

  const METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'];
  class Request {
    constructor(input, init) {
      const o = init || {};
      const base = input instanceof Request ? input : null;
      const url = base ? base.url : String(input instanceof URL ? input.href : input);
      let href;
      try { href = new URL(url).href; } catch (_) { throw new TypeError(`Failed to parse URL from ${url}`); }
      let method = o.method !== undefined ? String(o.method) : base ? base.method : 'GET';
      if (METHODS.includes(method.toUpperCase())) method = method.toUpperCase();
      if (!TOKEN.test(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
      this.url = href;
      this.method = method;
      this.headers = new Headers(o.headers !== undefined ? o.headers : base ? base.headers : undefined);
      this.signal = o.signal !== undefined ? o.signal : base ? base.signal : null;
      this.redirect = o.redirect || (base ? base.redirect : 'follow');
      this.credentials = o.credentials || 'same-origin';
      this.mode = o.mode || 'cors';
      this.cache = o.cache || 'default';
      this.keepalive = !!o.keepalive;
      this.duplex = o.duplex;
      this[USED] = false;
      if (o.body !== undefined && o.body !== null) {
        if (method === 'GET' || method === 'HEAD') throw new TypeError('Request with GET/HEAD method cannot have body.');
        const { body, type } = extractBody(o.body);
        this[BODY] = body;
        // A FormData body's boundary is known only here, so its type
        // replaces any Content-Type the caller set (axios, outside a
        // browser, leaves application/x-www-form-urlencoded on it).
        if (type && (!this.headers.has('content-type') || o.body instanceof FormData)) this.headers.set('content-type', type);
      } else if (base && o.body === undefined) {
        this[BODY] = consume(base);
      } else {
        this[BODY] = null;
      }
    }
    clone() {
      if (this[USED]) throw new TypeError('Request.clone: Body has already been consumed.');
      const r = new Request(this.url, { method: this.method, headers: this.headers, signal: this.signal, redirect: this.redirect });
      r[BODY] = this[BODY];
      return r;
    }
    get [Symbol.toStringTag]() { return 'Request'; }
  }
  mixBody(Request);

  const INIT = Symbol('init');
  class Response {
    constructor(body, init) {
      const o = init || {};
      if (o[INIT]) {
        // Built by fetch from the host's reply.
        Object.assign(this, o[INIT].fields);
        this.headers = new Headers(o[INIT].headers);
        this[BODY] = o[INIT].body;
        this[USED] = false;
        return;
      }
      const status = o.status === undefined ? 200 : Number(o.status);
      if (!Number.isInteger(status) || status < 200 || status > 599) {
        throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive. Received ${o.status}`);
      }
      this.status = status;
      this.statusText = o.statusText === undefined ? '' : String(o.statusText);
      this.headers = new Headers(o.headers);
      this.type = 'default';
      this.url = '';
      this.redirected = false;
      this[USED] = false;
      const { body: b, type } = extractBody(body);
      this[BODY] = b;
      if (type && !this.headers.has('content-type')) this.headers.set('content-type', type);
    }
    get ok() { return this.status >= 200 && this.status < 300; }
    clone() {
      if (this[USED]) throw new TypeError('Response.clone: Body has already been consumed.');
      return new Response(null, { [INIT]: {
        fields: { status: this.status, statusText: this.statusText, type: this.type, url: this.url, redirected: this.redirected },
        headers: this.headers,
        body: this[BODY],
      } });
    }
    static json(data, init) {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError('Value is not JSON serializable');
      const headers = new Headers(init && init.headers);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      return new Response(text, Object.assign({}, init, { headers }));
    }
    static error() {
      return new Response(null, { [INIT]: { fields: { status: 0, statusText: '', type: 'error', url: '', redirected: false }, headers: undefined, body: null } });
    }
    static redirect(url, status) {
      const s = status === undefined ? 302 : status;
      if (![301, 302, 303, 307, 308].includes(s)) throw new RangeError(`Invalid status code ${s}`);
      return new Response(null, { status: s, headers: { location: new URL(String(url)).href } });
    }
    get [Symbol.toStringTag]() { return 'Response'; }
  }
  mixBody(Response);

  return {
    classes: { Event, EventTarget, AbortController, AbortSignal, Headers, Blob, File, FormData, Request, Response },
    // What fetch needs from these classes, kept out of the Action's reach.
    requestBody: (request) => request[BODY],
    response: (fields, headers, body) => new Response(null, { [INIT]: { fields, headers, body } }),
  };
}
