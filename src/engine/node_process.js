// Node's `process` global and `zlib` module. Compiled to its own bytecode
// and loaded into a context on first use (node.js,
// `host.loadModule('process')`): a context is set up for every execution
// under per-execution isolation, and most never touch either. `started`
// is when the context was set up (process.uptime()).
function build(host, nextTick, started) {
  // ---- zlib -----------------------------------------------------------------------
  // One-shot deflate/inflate (raw, zlib, gzip) in Rust (zlib.rs), sync and
  // callback forms: jose 4 takes `promisify(zlib.inflateRaw)` at load.
  // Streams and brotli exist (packages take references at load) and throw
  // naming themselves.
  const ZLIB_CONSTANTS = Object.freeze({
    Z_NO_FLUSH: 0, Z_PARTIAL_FLUSH: 1, Z_SYNC_FLUSH: 2, Z_FULL_FLUSH: 3, Z_FINISH: 4, Z_BLOCK: 5,
    Z_OK: 0, Z_STREAM_END: 1, Z_NEED_DICT: 2, Z_ERRNO: -1, Z_STREAM_ERROR: -2, Z_DATA_ERROR: -3,
    Z_MEM_ERROR: -4, Z_BUF_ERROR: -5, Z_VERSION_ERROR: -6,
    Z_NO_COMPRESSION: 0, Z_BEST_SPEED: 1, Z_BEST_COMPRESSION: 9, Z_DEFAULT_COMPRESSION: -1,
    Z_FILTERED: 1, Z_HUFFMAN_ONLY: 2, Z_RLE: 3, Z_FIXED: 4, Z_DEFAULT_STRATEGY: 0, ZLIB_VERNUM: 4865,
    DEFLATE: 1, INFLATE: 2, GZIP: 3, GUNZIP: 4, DEFLATERAW: 5, INFLATERAW: 6, UNZIP: 7,
    BROTLI_DECODE: 8, BROTLI_ENCODE: 9,
    Z_MIN_WINDOWBITS: 8, Z_MAX_WINDOWBITS: 15, Z_DEFAULT_WINDOWBITS: 15,
    Z_MIN_CHUNK: 64, Z_MAX_CHUNK: Infinity, Z_DEFAULT_CHUNK: 16384,
    Z_MIN_MEMLEVEL: 1, Z_MAX_MEMLEVEL: 9, Z_DEFAULT_MEMLEVEL: 8,
    Z_MIN_LEVEL: -1, Z_MAX_LEVEL: 9, Z_DEFAULT_LEVEL: -1,
    BROTLI_OPERATION_PROCESS: 0, BROTLI_OPERATION_FLUSH: 1, BROTLI_OPERATION_FINISH: 2,
    BROTLI_OPERATION_EMIT_METADATA: 3, BROTLI_PARAM_MODE: 0, BROTLI_MODE_GENERIC: 0,
    BROTLI_MODE_TEXT: 1, BROTLI_MODE_FONT: 2, BROTLI_DEFAULT_MODE: 0, BROTLI_PARAM_QUALITY: 1,
    BROTLI_MIN_QUALITY: 0, BROTLI_MAX_QUALITY: 11, BROTLI_DEFAULT_QUALITY: 11,
    BROTLI_PARAM_LGWIN: 2, BROTLI_PARAM_SIZE_HINT: 5,
  });
  function buildZlib() {
    const Buffer = globalThis.Buffer;
    const hostZlib = host.zlib;
    const bytesOf = (data, name) => {
      if (typeof data === 'string') return Buffer.from(data, 'utf8');
      if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return Buffer.from(data instanceof ArrayBuffer ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      throw new TypeError(`The "buffer" argument of zlib.${name} must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer.`);
    };
    const levelOf = (options) => {
      const level = options && options.level;
      return typeof level === 'number' && Number.isInteger(level) ? level : -1;
    };
    const zlib = { constants: ZLIB_CONSTANTS, codes: Object.freeze({ Z_OK: 0, Z_STREAM_END: 1, Z_NEED_DICT: 2, Z_ERRNO: -1, Z_STREAM_ERROR: -2, Z_DATA_ERROR: -3, Z_MEM_ERROR: -4, Z_BUF_ERROR: -5, Z_VERSION_ERROR: -6 }) };
    for (const op of ['deflateRaw', 'inflateRaw', 'deflate', 'inflate', 'gzip', 'gunzip', 'unzip']) {
      const sync = (data, options) => {
        const input = bytesOf(data, `${op}Sync`);
        let out;
        try {
          out = hostZlib(op, input.toString('base64'), levelOf(options));
        } catch (e) {
          const err = new Error(e && e.message);
          err.code = 'Z_DATA_ERROR';
          err.errno = -3;
          throw err;
        }
        return Buffer.from(out, 'base64');
      };
      Object.defineProperty(sync, 'name', { value: `${op}Sync` });
      const callback = function (data, options, cb) {
        if (typeof options === 'function') { cb = options; options = undefined; }
        if (typeof cb !== 'function') throw new TypeError('The "callback" argument must be of type function.');
        let result;
        let error = null;
        try { result = sync(data, options); } catch (e) { error = e; }
        nextTick(() => (error ? cb(error) : cb(null, result)));
      };
      Object.defineProperty(callback, 'name', { value: op });
      zlib[op] = callback;
      zlib[`${op}Sync`] = sync;
    }
    const unsupported = (name) => function () {
      throw new Error(`zlib.${name} is not supported by Detour (one-shot deflate, inflate, gzip and gunzip are)`);
    };
    for (const name of ['createDeflate', 'createInflate', 'createDeflateRaw', 'createInflateRaw', 'createGzip',
      'createGunzip', 'createUnzip', 'createBrotliCompress', 'createBrotliDecompress', 'brotliCompress',
      'brotliCompressSync', 'brotliDecompress', 'brotliDecompressSync', 'Deflate', 'Inflate', 'DeflateRaw',
      'InflateRaw', 'Gzip', 'Gunzip', 'Unzip', 'BrotliCompress', 'BrotliDecompress', 'crc32']) {
      zlib[name] = unsupported(name);
    }
    for (const key of Object.keys(ZLIB_CONSTANTS)) {
      if (key.startsWith('Z_')) zlib[key] = ZLIB_CONSTANTS[key];
    }
    return Object.freeze(zlib);
  }

  // ---- process --------------------------------------------------------------------
  // A Node 22-shaped process with an empty env. Its toStringTag is not
  // 'process', so axios does not take it for Node and picks its fetch
  // adapter instead of its http one.
  function hrtime(prev) {
    const now = performance.now();
    let s = Math.floor(now / 1000);
    let ns = Math.floor((now % 1000) * 1e6);
    if (prev) {
      s -= prev[0];
      ns -= prev[1];
      if (ns < 0) { s -= 1; ns += 1e9; }
    }
    return [s, ns];
  }
  hrtime.bigint = () => BigInt(Math.floor(performance.now() * 1e6));
  const noStream = (fd) => ({ fd, isTTY: false, write: () => true, on() { return this; }, once() { return this; }, end() {} });
  const process = {
    title: 'node',
    version: 'v22.12.0',
    versions: Object.freeze({ node: '22.12.0', modules: '127', uv: '1.49.1', v8: '12.4.254.21-node.21' }),
    release: Object.freeze({ name: 'node', lts: 'Jod' }),
    arch: 'x64',
    platform: 'linux',
    env: {},
    argv: ['/usr/local/bin/node', 'action.js'],
    argv0: 'node',
    execArgv: [],
    execPath: '/usr/local/bin/node',
    pid: 1,
    ppid: 0,
    exitCode: undefined,
    features: Object.freeze({}),
    config: Object.freeze({ variables: Object.freeze({}) }),
    cwd: () => '/',
    chdir: () => { throw new Error('process.chdir() is not available to Actions'); },
    umask: () => 0o22,
    uptime: () => (performance.now() - started) / 1000,
    hrtime,
    memoryUsage: Object.assign(() => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }), { rss: () => 0 }),
    cpuUsage: () => ({ user: 0, system: 0 }),
    nextTick,
    emitWarning: () => {},
    exit: () => { throw new Error('process.exit() is not available to Actions; return from the handler or call api.access.deny()'); },
    abort: () => { throw new Error('process.abort() is not available to Actions'); },
    kill: () => { throw new Error('process.kill() is not available to Actions'); },
    binding: (name) => { throw new Error(`No such module: ${name}`); },
    on() { return process; },
    once() { return process; },
    off() { return process; },
    addListener() { return process; },
    removeListener() { return process; },
    removeAllListeners() { return process; },
    prependListener() { return process; },
    emit: () => false,
    listeners: () => [],
    listenerCount: () => 0,
    stdout: noStream(1),
    stderr: noStream(2),
    stdin: noStream(0),
  };

  let zlib = null;
  return { process, get zlib() { return zlib || (zlib = buildZlib()); } };
}
