// Node's `crypto` beyond random bytes (hashes, HMACs, signatures,
// KeyObject) and WebCrypto's `subtle`. Compiled to its own bytecode and
// loaded into a context on first use (globals.js, `host.loadModule('crypto')`).
// Every primitive is a Rust host function over aws-lc-rs (md5: the md-5
// crate); bytes cross as base64, which QuickJS-NG encodes natively.
function build(internal, host) {
  const { Buffer, bytesOf, concatBytes, toB64, fromB64, randomBytes, randomUUID, getRandomValues, timingSafeEqual, webcrypto } = internal;
  const output = (bytes, enc) => (enc === undefined || enc === 'buffer' ? bytes : bytes.toString(enc));
  // createHash / createHmac / createSign / createVerify share this: chunks
  // are kept and handed to Rust once, at the end.
  function collector(finish, name) {
    const chunks = [];
    let done = false;
    const h = {
      update(data, enc) {
        if (done) throw new Error('Digest already called');
        chunks.push(Uint8Array.from(bytesOf(data, enc)));
        return h;
      },
      [name](...args) {
        if (done) throw new Error(`${name} already called`);
        done = true;
        return finish(concatBytes(chunks), ...args);
      },
      write(data, enc) { h.update(data, enc); return true; },
      end(data, enc) { if (data !== undefined) h.update(data, enc); return h; },
    };
    return h;
  }

  const digestBytes = (alg, bytes) => fromB64(host.digest(String(alg), toB64(bytes)));
  const hmacBytes = (alg, key, bytes) => fromB64(host.hmac(String(alg), toB64(key), toB64(bytes)));

  // KeyObject: a secret's bytes, or an asymmetric key as Rust described it
  // ({type, kty, spki, pkcs8?, jwk, bits?|curve?}).
  const KEY = Symbol('key');
  const pemOf = (label, b64) => `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
  const b64url = (bytes) => toB64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  class KeyObject {
    constructor(type, key) {
      if (type !== 'secret' && type !== 'public' && type !== 'private') throw new TypeError(`Invalid KeyObject type ${type}`);
      this[KEY] = { type, key };
    }
    static from(cryptoKey) {
      if (!(cryptoKey instanceof CryptoKey)) throw new TypeError('The "key" argument must be an instance of CryptoKey.');
      return cryptoKey[KEY];
    }
    get type() { return this[KEY].type; }
    get asymmetricKeyType() { return this[KEY].type === 'secret' ? undefined : this[KEY].key.kty; }
    get asymmetricKeyDetails() {
      const { type, key } = this[KEY];
      if (type === 'secret') return undefined;
      if (key.kty === 'ec') return { namedCurve: key.curve };
      const e = Buffer.from(key.jwk.e, 'base64url');
      let exp = 0n;
      for (const byte of e) exp = (exp << 8n) | BigInt(byte);
      return { modulusLength: key.bits, publicExponent: exp };
    }
    get symmetricKeySize() { return this[KEY].type === 'secret' ? this[KEY].key.length : undefined; }
    export(options) {
      const { type, key } = this[KEY];
      const o = options || {};
      if (type === 'secret') {
        if (o.format === 'jwk') return { kty: 'oct', k: b64url(key) };
        return Buffer.from(key);
      }
      if (o.format === 'jwk') {
        if (type === 'private' && key.jwk.d === undefined) throw new Error('Exporting this RSA private key as a JWK is not supported by Detour');
        const jwk = Object.assign({}, key.jwk);
        if (type === 'public') delete jwk.d;
        return jwk;
      }
      const der = type === 'private' ? key.pkcs8 : key.spki;
      const enc = o.type || (type === 'private' ? 'pkcs8' : 'spki');
      if ((type === 'private' && enc !== 'pkcs8') || (type === 'public' && enc !== 'spki')) {
        throw new Error(`Exporting a ${type} key as ${enc} is not supported by Detour; use ${type === 'private' ? 'pkcs8' : 'spki'}`);
      }
      if (o.format === 'der') return fromB64(der);
      return pemOf(type === 'private' ? 'PRIVATE KEY' : 'PUBLIC KEY', der);
    }
    equals(other) {
      if (!(other instanceof KeyObject) || other.type !== this.type) return false;
      if (this.type === 'secret') return this[KEY].key.length === other[KEY].key.length && timingSafeEqual(this[KEY].key, other[KEY].key);
      return this[KEY].key.spki === other[KEY].key.spki && this[KEY].key.pkcs8 === other[KEY].key.pkcs8;
    }
    get [Symbol.toStringTag]() { return 'KeyObject'; }
  }
  const importAsymmetric = (isPrivate, format, data) => {
    const r = JSON.parse(host.importKey(JSON.stringify({ private: isPrivate, format, data })));
    if (!r.ok) throw new TypeError(`Invalid key: ${r.error}`);
    return new KeyObject(r.type, r);
  };
  function keyInput(input, isPrivate) {
    if (input instanceof KeyObject) return input;
    if (typeof CryptoKey !== 'undefined' && input instanceof CryptoKey) return input[KEY];
    let o = input;
    if (typeof input === 'string' || ArrayBuffer.isView(input)) o = { key: input };
    if (o === null || typeof o !== 'object') throw new TypeError('The "key" argument must be of type string or an instance of Buffer, KeyObject or an object.');
    if (o.passphrase !== undefined) throw new Error('Encrypted private keys are not supported by Detour');
    if (o.key instanceof KeyObject) return o.key;
    if (o.format === 'jwk') return importAsymmetric(isPrivate, 'jwk', o.key);
    if (o.format === 'der') return importAsymmetric(isPrivate, 'der', toB64(bytesOf(o.key)));
    const text = typeof o.key === 'string' ? o.key : Buffer.from(bytesOf(o.key)).toString('utf8');
    return importAsymmetric(isPrivate, 'pem', text);
  }
  function createPrivateKey(input) {
    const k = keyInput(input, true);
    if (k.type !== 'private') throw new TypeError(`Invalid key object type ${k.type}, expected private.`);
    return k;
  }
  function createPublicKey(input) {
    const k = keyInput(input, false);
    if (k.type === 'secret') throw new TypeError('Invalid key object type secret, expected public.');
    if (k.type === 'private') return new KeyObject('public', Object.assign({}, k[KEY].key, { pkcs8: undefined, jwk: Object.assign({}, k[KEY].key.jwk, { d: undefined }) }));
    return k;
  }
  function createSecretKey(key, enc) {
    if (key instanceof KeyObject) return key;
    return new KeyObject('secret', Uint8Array.from(bytesOf(key, enc)));
  }
  const RSA_PKCS1_PSS_PADDING = 6;
  // Node's digest names for signatures: 'RSA-SHA256', 'sha256', 'SHA256'.
  const signHash = (alg) => String(alg || 'sha256').toLowerCase().replace(/^rsa-/, '').replace(/^ecdsa-with-/, '');
  function signWith(hash, data, keyLike) {
    const key = createPrivateKey(keyLike && keyLike.key !== undefined && !(keyLike instanceof KeyObject) ? Object.assign({}, keyLike) : keyLike);
    const o = keyLike && typeof keyLike === 'object' && !(keyLike instanceof KeyObject) && !ArrayBuffer.isView(keyLike) ? keyLike : {};
    const pss = o.padding === RSA_PKCS1_PSS_PADDING;
    const p1363 = o.dsaEncoding === 'ieee-p1363';
    return fromB64(host.signBytes(hash, pss, p1363, key[KEY].key.pkcs8, toB64(data)));
  }
  function verifyWith(hash, data, keyLike, sig) {
    const key = createPublicKey(keyLike);
    const o = keyLike && typeof keyLike === 'object' && !(keyLike instanceof KeyObject) && !ArrayBuffer.isView(keyLike) ? keyLike : {};
    const pss = o.padding === RSA_PKCS1_PSS_PADDING;
    const p1363 = o.dsaEncoding === 'ieee-p1363';
    return host.verifyBytes(hash, pss, p1363, key[KEY].key.spki, toB64(data), toB64(sig));
  }
  const secretBytes = (key, enc) => (key instanceof KeyObject ? key[KEY].key : bytesOf(key, enc));

  // ---- WebCrypto (crypto.subtle) ------------------------------------------
  const notSupported = (what) => new DOMException(`${what} is not supported by Detour`, 'NotSupportedError');
  const hashName = (h) => String(h && typeof h === 'object' ? h.name : h).toUpperCase();
  class CryptoKey {
    constructor() { throw new TypeError('Illegal constructor'); }
    get [Symbol.toStringTag]() { return 'CryptoKey'; }
  }
  function makeCryptoKey(keyObject, algorithm, extractable, usages) {
    const k = Object.create(CryptoKey.prototype);
    k[KEY] = keyObject;
    Object.defineProperties(k, {
      type: { value: keyObject.type, enumerable: true },
      extractable: { value: !!extractable, enumerable: true },
      algorithm: { value: Object.freeze(algorithm), enumerable: true },
      usages: { value: Object.freeze(Array.from(usages || [])), enumerable: true },
    });
    return k;
  }
  const algoOf = (a) => (typeof a === 'string' ? { name: a } : a || {});
  const ASYMMETRIC = { 'RSASSA-PKCS1-V1_5': 'RSASSA-PKCS1-v1_5', 'RSA-PSS': 'RSA-PSS', ECDSA: 'ECDSA' };
  const subtle = Object.freeze({
    async digest(alg, data) {
      return digestBytes(hashName(alg).replace('-', ''), bytesOf(data)).buffer;
    },
    async importKey(format, keyData, algorithm, extractable, usages) {
      const a = algoOf(algorithm);
      const name = String(a.name).toUpperCase();
      if (name === 'HMAC') {
        let bytes;
        if (format === 'raw') bytes = Uint8Array.from(bytesOf(keyData));
        else if (format === 'jwk') bytes = Uint8Array.from(Buffer.from(String(keyData.k), 'base64url'));
        else throw notSupported(`Importing an HMAC key as ${format}`);
        return makeCryptoKey(new KeyObject('secret', bytes), { name: 'HMAC', hash: { name: hashName(a.hash) }, length: bytes.length * 8 }, extractable, usages);
      }
      const canonical = ASYMMETRIC[name];
      if (!canonical) throw notSupported(`The algorithm ${a.name}`);
      let key;
      if (format === 'jwk') key = importAsymmetric(keyData.d !== undefined, 'jwk', keyData);
      else if (format === 'spki') key = importAsymmetric(false, 'der', toB64(bytesOf(keyData)));
      else if (format === 'pkcs8') key = importAsymmetric(true, 'der', toB64(bytesOf(keyData)));
      else if (format === 'raw' && canonical === 'ECDSA') {
        const point = bytesOf(keyData);
        const size = (point.length - 1) / 2;
        key = importAsymmetric(false, 'jwk', { kty: 'EC', crv: a.namedCurve, x: b64url(point.subarray(1, 1 + size)), y: b64url(point.subarray(1 + size)) });
      } else throw notSupported(`Importing a ${canonical} key as ${format}`);
      const details = key.asymmetricKeyDetails;
      const alg = canonical === 'ECDSA'
        ? { name: canonical, namedCurve: key[KEY].key.jwk.crv }
        : { name: canonical, hash: { name: hashName(a.hash) }, modulusLength: details.modulusLength, publicExponent: new Uint8Array([1, 0, 1]) };
      return makeCryptoKey(key, alg, extractable, usages);
    },
    async exportKey(format, key) {
      if (!(key instanceof CryptoKey)) throw new TypeError('The "key" argument must be a CryptoKey');
      if (!key.extractable) throw new DOMException('key is not extractable', 'InvalidAccessError');
      const ko = key[KEY];
      if (format === 'jwk') {
        const jwk = ko.export({ format: 'jwk' });
        return Object.assign(jwk, { key_ops: Array.from(key.usages), ext: true });
      }
      if (format === 'raw' && ko.type === 'secret') return Uint8Array.from(ko[KEY].key).buffer;
      if (format === 'raw' && ko.asymmetricKeyType === 'ec' && ko.type === 'public') {
        const jwk = ko.export({ format: 'jwk' });
        return concatBytes([new Uint8Array([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]).buffer;
      }
      if (format === 'spki' && ko.type === 'public') return Uint8Array.from(ko.export({ format: 'der' })).buffer;
      if (format === 'pkcs8' && ko.type === 'private') return Uint8Array.from(ko.export({ format: 'der' })).buffer;
      throw notSupported(`Exporting a ${ko.type} key as ${format}`);
    },
    async sign(algorithm, key, data) {
      const a = algoOf(algorithm);
      const name = String(a.name).toUpperCase();
      const ko = key[KEY];
      if (name === 'HMAC') return hmacBytes(hashName(key.algorithm.hash).replace('-', ''), ko[KEY].key, bytesOf(data)).buffer;
      if (ko.type !== 'private') throw new DOMException('The key is not a private key', 'InvalidAccessError');
      const hash = name === 'ECDSA' ? hashName(a.hash) : hashName(key.algorithm.hash);
      return fromB64(host.signBytes(hash, name === 'RSA-PSS', true, ko[KEY].key.pkcs8, toB64(bytesOf(data)))).buffer;
    },
    async verify(algorithm, key, signature, data) {
      const a = algoOf(algorithm);
      const name = String(a.name).toUpperCase();
      const ko = key[KEY];
      if (name === 'HMAC') {
        const mac = hmacBytes(hashName(key.algorithm.hash).replace('-', ''), ko[KEY].key, bytesOf(data));
        const sig = bytesOf(signature);
        return mac.length === sig.length && timingSafeEqual(mac, sig);
      }
      const pub = ko.type === 'private' ? createPublicKey(ko) : ko;
      const hash = name === 'ECDSA' ? hashName(a.hash) : hashName(key.algorithm.hash);
      return host.verifyBytes(hash, name === 'RSA-PSS', true, pub[KEY].key.spki, toB64(bytesOf(data)), toB64(bytesOf(signature)));
    },
    async generateKey() { throw notSupported('crypto.subtle.generateKey'); },
    async encrypt() { throw notSupported('crypto.subtle.encrypt'); },
    async decrypt() { throw notSupported('crypto.subtle.decrypt'); },
    async deriveBits() { throw notSupported('crypto.subtle.deriveBits'); },
    async deriveKey() { throw notSupported('crypto.subtle.deriveKey'); },
  });

  const cryptoModule = {
    createHash: (alg) => {
      const name = String(alg);
      host.digest(name, '');
      const h = collector((bytes, enc) => output(digestBytes(name, bytes), enc), 'digest');
      h.copy = () => { throw new Error('hash.copy() is not supported by Detour'); };
      return h;
    },
    createHmac: (alg, key, enc) => {
      const k = secretBytes(key, enc);
      host.hmac(String(alg), toB64(k), '');
      return collector((bytes, outEnc) => output(hmacBytes(String(alg), k, bytes), outEnc), 'digest');
    },
    createSign: (alg) => collector((bytes, key, enc) => output(signWith(signHash(alg), bytes, key), enc), 'sign'),
    createVerify: (alg) => collector((bytes, key, sig, enc) => verifyWith(signHash(alg), bytes, key, bytesOf(sig, enc)), 'verify'),
    sign: (alg, data, key, callback) => {
      const sig = signWith(signHash(alg), bytesOf(data), key);
      if (typeof callback === 'function') { Promise.resolve().then(() => callback(null, sig)); return undefined; }
      return sig;
    },
    verify: (alg, data, key, sig, callback) => {
      const ok = verifyWith(signHash(alg), bytesOf(data), key, bytesOf(sig));
      if (typeof callback === 'function') { Promise.resolve().then(() => callback(null, ok)); return undefined; }
      return ok;
    },
    hash: (alg, data, enc) => output(digestBytes(String(alg), bytesOf(data)), enc === undefined ? 'hex' : enc),
    createPublicKey, createPrivateKey, createSecretKey, KeyObject,
    randomBytes, randomUUID, getRandomValues, timingSafeEqual,
    pseudoRandomBytes: randomBytes,
    randomInt(min, max, callback) {
      if (max === undefined || typeof max === 'function') { callback = max; max = min; min = 0; }
      const range = max - min;
      if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || range <= 0 || range > 2 ** 48) throw new RangeError('The "max" argument must be greater than "min" and the range at most 2^48');
      const limit = 2 ** 48 - (2 ** 48 % range);
      let x;
      do { x = randomBytes(6).readUIntBE(0, 6); } while (x >= limit);
      const n = min + (x % range);
      if (typeof callback === 'function') { Promise.resolve().then(() => callback(null, n)); return undefined; }
      return n;
    },
    getHashes: () => ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'],
    getCurves: () => ['prime256v1', 'secp384r1'],
    constants: Object.freeze({ RSA_PKCS1_PADDING: 1, RSA_PKCS1_PSS_PADDING, RSA_PSS_SALTLEN_DIGEST: -1, RSA_PSS_SALTLEN_MAX_SIGN: -2, RSA_PSS_SALTLEN_AUTO: -2 }),
    randomFillSync: (buf, offset, size) => {
      const view = bytesOf(buf);
      const o = offset || 0;
      getRandomValues(view.subarray(o, size === undefined ? view.length : o + size));
      return buf;
    },
    randomFill: (buf, ...rest) => {
      const cb = rest.pop();
      Promise.resolve().then(() => cb(null, cryptoModule.randomFillSync(buf, ...rest)));
    },
    getCiphers: () => [],
    webcrypto, subtle,
  };
  // Present so packages that take a reference at load time (jose's node
  // build promisifies generateKeyPair and pbkdf2) load; calling them says
  // what is missing.
  for (const name of ['generateKeyPair', 'generateKeyPairSync', 'generateKey', 'generateKeySync', 'generatePrime', 'pbkdf2', 'pbkdf2Sync',
    'scrypt', 'scryptSync', 'hkdf', 'hkdfSync', 'createCipheriv', 'createDecipheriv', 'publicEncrypt', 'privateDecrypt',
    'privateEncrypt', 'publicDecrypt', 'diffieHellman', 'createECDH', 'createDiffieHellman', 'getDiffieHellman', 'createDiffieHellmanGroup']) {
    cryptoModule[name] = function unsupported() { throw new Error(`crypto.${name}() is not supported by Detour`); };
  }
  Object.freeze(cryptoModule);

  return { cryptoModule, subtle, KeyObject, CryptoKey };
}
