// Globals and Node built-ins that Actions expect: Buffer, TextEncoder,
// TextDecoder, atob, btoa, structuredClone, crypto, URL, URLSearchParams,
// and the modules `require` serves (crypto, url, querystring, util, buffer).
// Compiled to its own bytecode and loaded into a context on first use
// (globals.js, `host.loadModule('globals')`): a context is set up for
// every execution under per-execution isolation, and most never touch
// these. Hashing, random bytes and URL parsing are Rust host functions
// (src/engine/crypto/, src/engine/urls.rs).
function build(host) {

  // ---- bytes ---------------------------------------------------------------
  function utf8Encode(str) {
    const out = [];
    for (const ch of String(str)) {
      let c = ch.codePointAt(0);
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return out;
  }
  function utf8Decode(bytes) {
    let s = '';
    for (let i = 0; i < bytes.length;) {
      const b = bytes[i];
      let c = 0xfffd;
      let n = 1;
      if (b < 0x80) c = b;
      else if (b >= 0xc2 && b < 0xe0 && (bytes[i + 1] & 0xc0) === 0x80) { c = ((b & 31) << 6) | (bytes[i + 1] & 63); n = 2; }
      else if (b >= 0xe0 && b < 0xf0 && (bytes[i + 1] & 0xc0) === 0x80 && (bytes[i + 2] & 0xc0) === 0x80) {
        c = ((b & 15) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63); n = 3;
        if (c < 0x800 || (c >= 0xd800 && c < 0xe000)) c = 0xfffd;
      } else if (b >= 0xf0 && b < 0xf5 && (bytes[i + 1] & 0xc0) === 0x80 && (bytes[i + 2] & 0xc0) === 0x80 && (bytes[i + 3] & 0xc0) === 0x80) {
        c = ((b & 7) << 18) | ((bytes[i + 1] & 63) << 12) | ((bytes[i + 2] & 63) << 6) | (bytes[i + 3] & 63); n = 4;
        if (c < 0x10000 || c > 0x10ffff) c = 0xfffd;
      }
      s += String.fromCodePoint(c);
      i += n;
    }
    return s;
  }
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  // Encoding is QuickJS-NG's native Uint8Array.prototype.toBase64/toHex;
  // decoding stays here because Node's is lenient (skips bad characters,
  // missing padding), which the native decoder is not.
  const asU8 = (bytes) => (bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  function base64Encode(bytes, url) {
    const s = asU8(bytes).toBase64();
    return url ? s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : s;
  }
  function base64Decode(str, strict) {
    const clean = String(str).replace(/-/g, '+').replace(/_/g, '/').replace(/[\s=]/g, '');
    if (strict && (/[^A-Za-z0-9+/]/.test(clean) || clean.length % 4 === 1)) return null;
    const out = [];
    let bits = 0;
    let acc = 0;
    for (const ch of clean) {
      const v = B64.indexOf(ch);
      if (v < 0) break;
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 255); }
    }
    return out;
  }
  const toHex = (bytes) => asU8(bytes).toHex();
  function fromHex(str) {
    const out = [];
    for (let i = 0; i + 1 < str.length; i += 2) {
      const v = parseInt(str.substr(i, 2), 16);
      if (Number.isNaN(v)) break;
      out.push(v);
    }
    return out;
  }
  const norm = (enc) => String(enc || 'utf8').toLowerCase().replace('-', '');
  function encode(str, enc) {
    switch (norm(enc)) {
      case 'utf8': return utf8Encode(str);
      case 'base64': case 'base64url': return base64Decode(str, false);
      case 'hex': return fromHex(String(str));
      case 'latin1': case 'binary': case 'ascii': return Array.from(String(str), (c) => c.charCodeAt(0) & 255);
      case 'utf16le': case 'ucs2': { const out = []; for (const c of String(str)) { for (let i = 0; i < c.length; i++) { const u = c.charCodeAt(i); out.push(u & 255, u >> 8); } } return out; }
      default: throw new TypeError(`Unknown encoding: ${enc}`);
    }
  }
  function decode(bytes, enc) {
    switch (norm(enc)) {
      case 'utf8': return utf8Decode(bytes);
      case 'base64': return base64Encode(bytes, false);
      case 'base64url': return base64Encode(bytes, true);
      case 'hex': return toHex(bytes);
      case 'latin1': case 'binary': return String.fromCharCode.apply(null, Array.from(bytes));
      case 'ascii': return String.fromCharCode.apply(null, Array.from(bytes, (b) => b & 127));
      case 'utf16le': case 'ucs2': {
        let out = '';
        for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
        return out;
      }
      default: throw new TypeError(`Unknown encoding: ${enc}`);
    }
  }

  // Bounds-checked byte access for Buffer's read/write methods (Node throws
  // a RangeError where a typed array would read undefined).
  function at8(b, i) {
    if (!Number.isInteger(i) || i < 0 || i >= b.length) throw new RangeError(`The value of "offset" is out of range. It must be >= 0 and <= ${b.length - 1}. Received ${i}`);
    return b[i];
  }
  function put8(b, i, v) { at8(b, i); b[i] = v; }
  const viewOf = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength);

  class Buffer extends Uint8Array {
    static from(value, encodingOrOffset, length) {
      if (typeof value === 'string') return Buffer.fromBytes(encode(value, encodingOrOffset));
      if (value instanceof ArrayBuffer) return new Buffer(value, encodingOrOffset || 0, length === undefined ? value.byteLength - (encodingOrOffset || 0) : length);
      if (ArrayBuffer.isView(value)) return Buffer.fromBytes(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      if (Array.isArray(value)) return Buffer.fromBytes(value);
      if (value && value.type === 'Buffer' && Array.isArray(value.data)) return Buffer.fromBytes(value.data);
      throw new TypeError('The first argument must be a string, Buffer, ArrayBuffer, Array, or array-like object.');
    }
    static fromBytes(bytes) { const b = new Buffer(bytes.length); b.set(bytes); return b; }
    static alloc(size, fill, enc) {
      const b = new Buffer(size);
      if (fill !== undefined) {
        const f = typeof fill === 'number' ? [fill & 255] : encode(fill, enc);
        if (f.length) for (let i = 0; i < size; i++) b[i] = f[i % f.length];
      }
      return b;
    }
    static allocUnsafe(size) { return new Buffer(size); }
    static byteLength(value, enc) {
      if (typeof value === 'string') return encode(value, enc).length;
      return value.byteLength;
    }
    static isBuffer(b) { return b instanceof Buffer; }
    static isEncoding(enc) { try { encode('', enc); return true; } catch (_) { return false; } }
    static concat(list, total) {
      const size = total === undefined ? list.reduce((n, b) => n + b.length, 0) : total;
      const out = Buffer.alloc(size);
      let at = 0;
      for (const b of list) { if (at >= size) break; out.set(b.subarray(0, size - at), at); at += b.length; }
      return out;
    }
    static compare(a, b) { return a.compare(b); }
    toString(enc, start, end) { return decode(this.subarray(start || 0, end === undefined ? this.length : end), enc); }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
    equals(other) { return this.compare(other) === 0; }
    compare(other) {
      const n = Math.min(this.length, other.length);
      for (let i = 0; i < n; i++) if (this[i] !== other[i]) return this[i] < other[i] ? -1 : 1;
      return this.length === other.length ? 0 : this.length < other.length ? -1 : 1;
    }
    slice(start, end) { return this.subarray(start, end); }
    write(str, offset, enc) {
      if (typeof offset === 'string') { enc = offset; offset = 0; }
      const bytes = encode(str, enc); const o = offset || 0; const n = Math.max(0, Math.min(bytes.length, this.length - o)); this.set(bytes.slice(0, n), o); return n;
    }
    static allocUnsafeSlow(size) { return new Buffer(size); }
    fill(value, offset, end, enc) {
      if (typeof offset === 'string') { enc = offset; offset = 0; end = this.length; }
      const o = offset || 0;
      const e = end === undefined ? this.length : end;
      if (typeof value === 'number') return Uint8Array.prototype.fill.call(this, value & 255, o, e);
      const f = ArrayBuffer.isView(value) ? Array.from(value) : encode(String(value), enc);
      if (f.length) for (let i = o; i < e; i++) this[i] = f[(i - o) % f.length];
      return this;
    }
    indexOf(value, from, enc) {
      if (typeof value === 'number') return Uint8Array.prototype.indexOf.call(this, value & 255, from);
      const needle = typeof value === 'string' ? encode(value, enc) : Array.from(value);
      const start = from === undefined ? 0 : from < 0 ? Math.max(0, this.length + from) : from;
      outer: for (let i = start; i <= this.length - needle.length; i++) {
        for (let j = 0; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer;
        return i;
      }
      return -1;
    }
    includes(value, from, enc) { return this.indexOf(value, from, enc) !== -1; }
    copy(target, targetStart, sourceStart, sourceEnd) {
      const ts = targetStart || 0;
      const ss = sourceStart || 0;
      const se = Math.min(sourceEnd === undefined ? this.length : sourceEnd, this.length, ss + target.length - ts);
      if (se <= ss) return 0;
      target.set(this.subarray(ss, se), ts);
      return se - ss;
    }
    toLocaleString(enc, start, end) { return this.toString(enc, start, end); }
    inspect() { return `<Buffer ${Array.from(this.subarray(0, 50), (b) => (b < 16 ? '0' : '') + b.toString(16)).join(' ')}${this.length > 50 ? ' ...' : ''}>`; }
    readUIntBE(offset, n) { let v = 0; for (let i = 0; i < n; i++) v = v * 256 + at8(this, offset + i); return v; }
    readUIntLE(offset, n) { let v = 0; for (let i = n - 1; i >= 0; i--) v = v * 256 + at8(this, offset + i); return v; }
    readIntBE(offset, n) { const v = this.readUIntBE(offset, n); return v >= 2 ** (8 * n - 1) ? v - 2 ** (8 * n) : v; }
    readIntLE(offset, n) { const v = this.readUIntLE(offset, n); return v >= 2 ** (8 * n - 1) ? v - 2 ** (8 * n) : v; }
    writeUIntBE(value, offset, n) { let v = Number(value); for (let i = n - 1; i >= 0; i--) { put8(this, offset + i, v & 255); v = Math.floor(v / 256); } return offset + n; }
    writeUIntLE(value, offset, n) { let v = Number(value); for (let i = 0; i < n; i++) { put8(this, offset + i, v & 255); v = Math.floor(v / 256); } return offset + n; }
    writeIntBE(value, offset, n) { return this.writeUIntBE(value < 0 ? value + 2 ** (8 * n) : value, offset, n); }
    writeIntLE(value, offset, n) { return this.writeUIntLE(value < 0 ? value + 2 ** (8 * n) : value, offset, n); }
    readBigUInt64BE(o = 0) { at8(this, o + 7); return viewOf(this).getBigUint64(o, false); }
    readBigUInt64LE(o = 0) { at8(this, o + 7); return viewOf(this).getBigUint64(o, true); }
    readBigInt64BE(o = 0) { at8(this, o + 7); return viewOf(this).getBigInt64(o, false); }
    readBigInt64LE(o = 0) { at8(this, o + 7); return viewOf(this).getBigInt64(o, true); }
    writeBigUInt64BE(v, o = 0) { at8(this, o + 7); viewOf(this).setBigUint64(o, BigInt(v), false); return o + 8; }
    writeBigUInt64LE(v, o = 0) { at8(this, o + 7); viewOf(this).setBigUint64(o, BigInt(v), true); return o + 8; }
    readFloatBE(o = 0) { at8(this, o + 3); return viewOf(this).getFloat32(o, false); }
    readFloatLE(o = 0) { at8(this, o + 3); return viewOf(this).getFloat32(o, true); }
    readDoubleBE(o = 0) { at8(this, o + 7); return viewOf(this).getFloat64(o, false); }
    readDoubleLE(o = 0) { at8(this, o + 7); return viewOf(this).getFloat64(o, true); }
    writeFloatBE(v, o = 0) { at8(this, o + 3); viewOf(this).setFloat32(o, v, false); return o + 4; }
    writeFloatLE(v, o = 0) { at8(this, o + 3); viewOf(this).setFloat32(o, v, true); return o + 4; }
    writeDoubleBE(v, o = 0) { at8(this, o + 7); viewOf(this).setFloat64(o, v, false); return o + 8; }
    writeDoubleLE(v, o = 0) { at8(this, o + 7); viewOf(this).setFloat64(o, v, true); return o + 8; }
    swap16() { for (let i = 0; i + 1 < this.length; i += 2) { const t = this[i]; this[i] = this[i + 1]; this[i + 1] = t; } return this; }
  }
  // readUInt8 ... writeInt32LE, with Node's aliases (readUint16BE, ...).
  for (const [bits, n] of [[8, 1], [16, 2], [32, 4]]) {
    for (const end of n === 1 ? [''] : ['BE', 'LE']) {
      const e = end || 'BE';
      for (const [U, u] of [['UInt', 'UInt'], ['Uint', 'UInt'], ['Int', 'Int']]) {
        Buffer.prototype[`read${U}${bits}${end}`] = function (o = 0) { return this[`read${u}${e}`](o, n); };
        Buffer.prototype[`write${U}${bits}${end}`] = function (v, o = 0) { return this[`write${u}${e}`](v, o, n); };
      }
    }
  }
  for (const name of ['readUIntBE', 'readUIntLE', 'writeUIntBE', 'writeUIntLE', 'readBigUInt64BE', 'readBigUInt64LE', 'writeBigUInt64BE', 'writeBigUInt64LE']) {
    Buffer.prototype[name.replace('UInt', 'Uint')] = Buffer.prototype[name];
  }
  Buffer.poolSize = 8192;

  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(str) { return new Uint8Array(utf8Encode(str === undefined ? '' : str)); }
  }
  class TextDecoder {
    constructor(label) {
      const l = String(label || 'utf-8').toLowerCase();
      if (l !== 'utf-8' && l !== 'utf8') throw new RangeError(`The "${label}" encoding is not supported`);
    }
    get encoding() { return 'utf-8'; }
    decode(input) {
      if (input === undefined) return '';
      const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      return utf8Decode(bytes);
    }
  }
  function btoa(str) {
    const s = String(str);
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 255) throw new Error('Invalid character');
    }
    return base64Encode(Array.from(s, (c) => c.charCodeAt(0)), false);
  }
  function atob(str) {
    const bytes = base64Decode(String(str).replace(/[\t\n\f\r ]/g, ''), true);
    if (bytes === null) throw new Error('The string to be decoded is not correctly encoded.');
    return String.fromCharCode.apply(null, bytes);
  }

  function structuredClone(value) {
    const seen = new Map();
    const clone = (v) => {
      if (v === null || typeof v !== 'object') {
        if (typeof v === 'function' || typeof v === 'symbol') throw new Error(`${String(v)} could not be cloned.`);
        return v;
      }
      if (seen.has(v)) return seen.get(v);
      let out;
      if (v instanceof Date) out = new Date(v.getTime());
      else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
      else if (ArrayBuffer.isView(v)) out = new v.constructor(v);
      else if (v instanceof ArrayBuffer) out = v.slice(0);
      else if (v instanceof Map) { out = new Map(); seen.set(v, out); v.forEach((x, k) => out.set(clone(k), clone(x))); return out; }
      else if (v instanceof Set) { out = new Set(); seen.set(v, out); v.forEach((x) => out.add(clone(x))); return out; }
      else if (v instanceof Error) { out = new v.constructor(v.message); }
      else if (Array.isArray(v)) { out = []; seen.set(v, out); v.forEach((x, i) => { out[i] = clone(x); }); return out; }
      else { out = {}; seen.set(v, out); for (const k of Object.keys(v)) out[k] = clone(v[k]); return out; }
      seen.set(v, out);
      return out;
    };
    return clone(value);
  }

  // ---- crypto ----------------------------------------------------------------
  // Every primitive is a Rust host function over aws-lc-rs (md5: the md-5
  // crate); bytes cross as base64, which QuickJS-NG encodes natively.
  const toB64 = (bytes) => (bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toBase64();
  const fromB64 = (text) => Buffer.fromBytes(Uint8Array.fromBase64(text));
  const bytesOf = (data, enc) => {
    if (typeof data === 'string') return new Uint8Array(encode(data, enc));
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView.');
  };
  const concatBytes = (chunks) => {
    let n = 0;
    for (const c of chunks) n += c.length;
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of chunks) { out.set(c, at); at += c.length; }
    return out;
  };
  function randomBytes(size, callback) {
    if (!Number.isInteger(size) || size < 0 || size > 65536) throw new RangeError('The "size" argument must be an integer between 0 and 65536.');
    const b = fromB64(host.randomBytes(size));
    if (typeof callback === 'function') { Promise.resolve().then(() => callback(null, b)); return undefined; }
    return b;
  }
  function randomUUID() {
    const b = randomBytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  function getRandomValues(array) {
    if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array || array instanceof DataView) {
      throw new TypeError('The data argument must be an integer-type TypedArray');
    }
    if (array.byteLength > 65536) throw new RangeError('The ArrayBufferView\'s byte length exceeds the number of bytes of entropy available (65536)');
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(randomBytes(array.byteLength));
    return array;
  }
  function timingSafeEqual(a, b) {
    const x = bytesOf(a);
    const y = bytesOf(b);
    if (x.length !== y.length) throw new RangeError('Input buffers must have the same byte length');
    let diff = 0;
    for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
    return diff === 0;
  }
  // The rest of `crypto` (crypto_module.js) is loaded into the context on
  // first use: most executions need at most a random UUID.
  let cryptoBuilt = null;
  const webcrypto = Object.freeze({
    getRandomValues,
    randomUUID,
    get subtle() { return lazyCrypto().subtle; },
  });
  const lazyCrypto = () => cryptoBuilt || (cryptoBuilt = host.loadModule('crypto')({
    Buffer, bytesOf, concatBytes, toB64, fromB64, randomBytes, randomUUID, getRandomValues, timingSafeEqual, webcrypto,
  }, host));

  // ---- URL -------------------------------------------------------------------
  const FORM_SAFE = /[!'()~]/g;
  const formEncode = (s) => encodeURIComponent(s).replace(FORM_SAFE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
  const formDecode = (s) => { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch (_) { return s; } };
  const LIST = Symbol('list');
  const OWNER = Symbol('owner');
  class URLSearchParams {
    constructor(init) {
      this[LIST] = [];
      this[OWNER] = null;
      if (init === undefined || init === null) return;
      if (typeof init === 'string') this._parse(init);
      else if (init instanceof URLSearchParams) this[LIST] = init[LIST].map(([k, v]) => [k, v]);
      else if (typeof init[Symbol.iterator] === 'function') {
        for (const pair of init) {
          const p = Array.from(pair);
          if (p.length !== 2) throw new TypeError('Each query pair must be an iterable [name, value] tuple');
          this[LIST].push([String(p[0]), String(p[1])]);
        }
      } else if (typeof init === 'object') for (const k of Object.keys(init)) this[LIST].push([k, String(init[k])]);
      else this._parse(String(init));
    }
    _parse(s) {
      this[LIST] = [];
      const q = s.startsWith('?') ? s.slice(1) : s;
      for (const part of q.split('&')) {
        if (!part) continue;
        const i = part.indexOf('=');
        this[LIST].push(i < 0 ? [formDecode(part), ''] : [formDecode(part.slice(0, i)), formDecode(part.slice(i + 1))]);
      }
    }
    _changed() { if (this[OWNER]) this[OWNER]._setSearch(this.toString()); }
    get size() { return this[LIST].length; }
    append(k, v) { this[LIST].push([String(k), String(v)]); this._changed(); }
    delete(k, v) { this[LIST] = this[LIST].filter(([a, b]) => !(a === String(k) && (v === undefined || b === String(v)))); this._changed(); }
    get(k) { const e = this[LIST].find(([a]) => a === String(k)); return e ? e[1] : null; }
    getAll(k) { return this[LIST].filter(([a]) => a === String(k)).map(([, b]) => b); }
    has(k, v) { return this[LIST].some(([a, b]) => a === String(k) && (v === undefined || b === String(v))); }
    set(k, v) {
      const key = String(k);
      const i = this[LIST].findIndex(([a]) => a === key);
      if (i < 0) this[LIST].push([key, String(v)]);
      else { this[LIST][i] = [key, String(v)]; this[LIST] = this[LIST].filter(([a], j) => a !== key || j === i); }
      this._changed();
    }
    sort() { this[LIST].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this._changed(); }
    forEach(fn, thisArg) { for (const [k, v] of this[LIST]) fn.call(thisArg, v, k, this); }
    keys() { return this[LIST].map(([k]) => k)[Symbol.iterator](); }
    values() { return this[LIST].map(([, v]) => v)[Symbol.iterator](); }
    entries() { return this[LIST].map(([k, v]) => [k, v])[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return this[LIST].map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`).join('&'); }
  }

  const PARTS = Symbol('parts');
  const FIELDS = ['href', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];
  class URL {
    constructor(input, base) {
      const r = JSON.parse(host.parseUrl(String(input), base === undefined ? undefined : String(base)));
      if (!r.ok) throw new TypeError(r.error);
      this[PARTS] = r;
      this._params = new URLSearchParams(r.search);
      this._params[OWNER] = this;
    }
    static canParse(input, base) { try { new URL(input, base); return true; } catch (_) { return false; } }
    static parse(input, base) { try { return new URL(input, base); } catch (_) { return null; } }
    _set(field, value) {
      const r = JSON.parse(host.setUrl(this[PARTS].href, field, String(value)));
      if (!r.ok) throw new TypeError(r.error);
      this[PARTS] = r;
    }
    _setSearch(s) { this._set('search', s); }
    get origin() { return this[PARTS].origin; }
    get searchParams() { return this._params; }
    toString() { return this[PARTS].href; }
    toJSON() { return this[PARTS].href; }
  }
  for (const f of FIELDS) {
    Object.defineProperty(URL.prototype, f, {
      get() { return this[PARTS][f]; },
      set(v) {
        this._set(f, v);
        if (f === 'search' || f === 'href') { this._params._parse(this[PARTS].search); }
      },
      configurable: true,
    });
  }

  // ---- Node built-ins ----------------------------------------------------------
  const querystring = {
    parse(str, sep, eq) {
      const out = {};
      for (const part of String(str || '').split(sep || '&')) {
        if (!part) continue;
        const i = part.indexOf(eq || '=');
        const k = formDecode(i < 0 ? part : part.slice(0, i));
        const v = i < 0 ? '' : formDecode(part.slice(i + (eq || '=').length));
        if (Object.prototype.hasOwnProperty.call(out, k)) out[k] = [].concat(out[k], v); else out[k] = v;
      }
      return out;
    },
    stringify(obj, sep, eq) {
      const enc = (v) => encodeURIComponent(typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : '');
      return Object.keys(obj || {}).map((k) => {
        const v = obj[k];
        return Array.isArray(v) ? v.map((x) => enc(k) + (eq || '=') + enc(x)).join(sep || '&') : enc(k) + (eq || '=') + enc(v);
      }).join(sep || '&');
    },
    escape: (s) => encodeURIComponent(s),
    unescape: (s) => formDecode(s),
  };
  querystring.decode = querystring.parse;
  querystring.encode = querystring.stringify;
  Object.freeze(querystring);
  function legacyParse(str, parseQuery) {
    const u = new URL(str);
    const search = u.search;
    return {
      href: u.href, protocol: u.protocol, host: u.host, hostname: u.hostname, port: u.port || null,
      pathname: u.pathname, search: search || null, hash: u.hash || null,
      path: u.pathname + search, auth: u.username ? (u.password ? `${u.username}:${u.password}` : u.username) : null,
      query: parseQuery ? querystring.parse(search.slice(1)) : (search.slice(1) || null),
      slashes: true,
    };
  }
  const urlModule = Object.freeze({
    URL, URLSearchParams, parse: legacyParse,
    format: (u) => (u instanceof URL ? u.href : typeof u === 'string' ? u : new URL(`${u.protocol}//${u.host || u.hostname + (u.port ? `:${u.port}` : '')}${u.pathname || '/'}${u.search || (u.query ? `?${querystring.stringify(u.query)}` : '')}${u.hash || ''}`).href),
  });

  function inspect(v, opts) {
    const depth = opts && typeof opts.depth === 'number' ? opts.depth : 2;
    const seen = new Set();
    const show = (x, d) => {
      if (typeof x === 'string') return d === 0 ? x : `'${x}'`;
      if (typeof x === 'function') return `[Function: ${x.name || 'anonymous'}]`;
      if (typeof x === 'bigint') return `${x}n`;
      if (x === null || typeof x !== 'object') return String(x);
      if (x instanceof Error) return x.stack || `${x.name}: ${x.message}`;
      if (x instanceof Date) return x.toISOString();
      if (seen.has(x)) return '[Circular]';
      if (d > depth) return Array.isArray(x) ? '[Array]' : '[Object]';
      seen.add(x);
      let s;
      if (Array.isArray(x)) s = x.length ? `[ ${x.map((y) => show(y, d + 1)).join(', ')} ]` : '[]';
      else {
        const keys = Object.keys(x);
        s = keys.length ? `{ ${keys.map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k}'`}: ${show(x[k], d + 1)}`).join(', ')} }` : '{}';
      }
      seen.delete(x);
      return s;
    };
    return show(v, 0 + (typeof v === 'string' ? 1 : 0));
  }
  function format(f, ...args) {
    if (typeof f !== 'string') return [f, ...args].map((a) => inspect(a)).join(' ');
    let i = 0;
    const out = f.replace(/%[sdifjoO%]/g, (m) => {
      if (m === '%%') return '%';
      if (i >= args.length) return m;
      const a = args[i++];
      switch (m) {
        case '%s': return typeof a === 'string' ? a : inspect(a);
        case '%d': case '%i': { const n = Number(a); return String(m === '%i' ? Math.trunc(n) : n); }
        case '%f': return String(parseFloat(a));
        case '%j': try { return JSON.stringify(a); } catch (_) { return '[Circular]'; }
        default: return inspect(a);
      }
    });
    return [out, ...args.slice(i).map((a) => (typeof a === 'string' ? a : inspect(a)))].join(' ');
  }
  const CUSTOM_PROMISIFY = Symbol.for('nodejs.util.promisify.custom');
  function promisify(fn) {
    if (typeof fn !== 'function') throw new TypeError('The "original" argument must be of type function');
    if (typeof fn[CUSTOM_PROMISIFY] === 'function') return fn[CUSTOM_PROMISIFY];
    return function (...args) {
      return new Promise((resolve, reject) => {
        fn.call(this, ...args, (err, value) => (err ? reject(err) : resolve(value)));
      });
    };
  }
  promisify.custom = CUSTOM_PROMISIFY;
  inspect.custom = Symbol.for('nodejs.util.inspect.custom');
  function callbackify(fn) {
    if (typeof fn !== 'function') throw new TypeError('The "original" argument must be of type function');
    return function (...args) {
      const cb = args.pop();
      fn.apply(this, args).then((v) => cb(null, v), (e) => cb(e || new Error('Promise was rejected with a falsy value')));
    };
  }
  function inherits(ctor, superCtor) {
    if (typeof ctor !== 'function' || typeof superCtor !== 'function') throw new TypeError('The "ctor" and "superCtor" arguments must be functions');
    Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
    Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
  }
  function isDeepStrictEqual(a, b) {
    if (Object.is(a, b)) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    if (a instanceof Date) return a.getTime() === b.getTime();
    if (a instanceof RegExp) return String(a) === String(b);
    if (ArrayBuffer.isView(a)) return a.length === b.length && Array.prototype.every.call(a, (x, i) => Object.is(x, b[i]));
    if (a instanceof Map || a instanceof Set) {
      if (a.size !== b.size) return false;
      for (const [k, v] of a.entries()) if (!b.has(k) || (a instanceof Map && !isDeepStrictEqual(v, b.get(k)))) return false;
      return true;
    }
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && isDeepStrictEqual(a[k], b[k]));
  }
  const tag = (v) => Object.prototype.toString.call(v).slice(8, -1);
  const types = Object.freeze({
    isDate: (v) => v instanceof Date,
    isRegExp: (v) => v instanceof RegExp,
    isPromise: (v) => v instanceof Promise,
    isNativeError: (v) => v instanceof Error,
    isMap: (v) => v instanceof Map,
    isSet: (v) => v instanceof Set,
    isWeakMap: (v) => v instanceof WeakMap,
    isWeakSet: (v) => v instanceof WeakSet,
    isArrayBuffer: (v) => v instanceof ArrayBuffer,
    isSharedArrayBuffer: (v) => typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer,
    isAnyArrayBuffer: (v) => v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer),
    isArrayBufferView: (v) => ArrayBuffer.isView(v),
    isTypedArray: (v) => ArrayBuffer.isView(v) && !(v instanceof DataView),
    isUint8Array: (v) => v instanceof Uint8Array,
    isDataView: (v) => v instanceof DataView,
    isGeneratorFunction: (v) => typeof v === 'function' && tag(v) === 'GeneratorFunction',
    isAsyncFunction: (v) => typeof v === 'function' && tag(v) === 'AsyncFunction',
    isBoxedPrimitive: (v) => v instanceof Number || v instanceof String || v instanceof Boolean,
    isKeyObject: (v) => cryptoBuilt !== null && v instanceof cryptoBuilt.KeyObject,
    isCryptoKey: (v) => cryptoBuilt !== null && v instanceof cryptoBuilt.CryptoKey,
    isProxy: () => false,
  });
  const util = Object.freeze({
    format, inspect, promisify, callbackify, inherits, TextEncoder, TextDecoder, isDeepStrictEqual, types,
    deprecate: (fn) => fn,
    debuglog: () => Object.assign(() => {}, { enabled: false }),
    debug: () => Object.assign(() => {}, { enabled: false }),
    isArray: Array.isArray,
    isBuffer: (v) => v instanceof Buffer,
    isFunction: (v) => typeof v === 'function',
    isString: (v) => typeof v === 'string',
    isObject: (v) => v !== null && typeof v === 'object',
    isError: (v) => v instanceof Error,
    isDate: (v) => v instanceof Date,
    isRegExp: (v) => v instanceof RegExp,
    isPrimitive: (v) => v === null || (typeof v !== 'object' && typeof v !== 'function'),
    stripVTControlCharacters: (s) => String(s).replace(/\u001b\[[0-9;]*m/g, ''),
    toUSVString: (s) => String(s).toWellFormed(),
  });

  const modules = {
    url: urlModule,
    querystring,
    util,
    'util/types': types,
    buffer: Object.freeze({ Buffer, atob, btoa, kMaxLength: 2 ** 31 - 1, constants: Object.freeze({ MAX_LENGTH: 2 ** 31 - 1, MAX_STRING_LENGTH: 2 ** 29 - 24 }), SlowBuffer: Buffer }),
  };
  Object.defineProperty(modules, 'crypto', {
    get() { return lazyCrypto().cryptoModule; }, enumerable: true, configurable: true,
  });
  return {
    globals: { Buffer, TextEncoder, TextDecoder, atob, btoa, structuredClone, URL, URLSearchParams, crypto: webcrypto },
    cryptoKey: () => lazyCrypto().CryptoKey,
    modules,
    // For web.js and node.js, which build on these.
    internal: { utf8Encode, utf8Decode, bytesOf, concatBytes, randomBytes, Buffer, util },
  };
}
