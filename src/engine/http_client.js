// Node's http(s).request/get as a client over fetch (prelude.js serves
// `http` and `https` as refused modules that keep these two calls): a
// ClientRequest that sends on end(), and an IncomingMessage that emits
// 'data'/'end' and can be read with for await. Enough for packages that
// fetch JSON. Compiled to its own bytecode and loaded into a context when
// an Action first requires http or https (`host.loadModule('http')`).
function build(scheme, helpers) {
  const { builtinOf, assign, freeze } = helpers;
  const protocol = `${scheme}:`;
  function request(input, options, callback) {
    if (typeof options === 'function') { callback = options; options = undefined; }
    let href;
    let o = options || {};
    if (typeof input === 'string' || (input && typeof input.href === 'string')) {
      href = String(input.href || input);
    } else {
      o = input || {};
      const host = o.hostname || o.host || 'localhost';
      href = `${o.protocol || protocol}//${host}${o.port ? `:${o.port}` : ''}${o.path || '/'}`;
    }
    if (!href.startsWith(protocol)) {
      throw new TypeError(`Protocol "${href.split(':')[0]}:" not supported. Expected "${protocol}"`);
    }
    const { EventEmitter } = builtinOf('events');
    const req = new EventEmitter();
    const controller = new AbortController();
    const chunks = [];
    let timer = null;
    let sent = false;
    const stop = () => { if (timer !== null) { clearTimeout(timer); timer = null; } };
    if (o.timeout) timer = setTimeout(() => { timer = null; req.emit('timeout'); }, Number(o.timeout));
    if (typeof callback === 'function') req.once('response', callback);
    req.setTimeout = (ms, cb) => { stop(); timer = setTimeout(() => { timer = null; req.emit('timeout'); }, ms); if (cb) req.once('timeout', cb); return req; };
    req.setHeader = (k, v) => { o.headers = assign({}, o.headers, { [k]: v }); };
    req.write = (chunk) => { chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk)); return true; };
    req.destroy = (err) => { stop(); controller.abort(); if (err) req.emit('error', err); return req; };
    req.abort = req.destroy;
    req.end = (chunk) => {
      if (chunk !== undefined) req.write(chunk);
      if (sent) return req;
      sent = true;
      const body = chunks.length === 0 ? undefined
        : chunks.every((c) => typeof c === 'string') ? chunks.join('') : Buffer.concat(chunks.map((c) => Buffer.from(c)));
      fetch(href, { method: o.method || 'GET', headers: o.headers, body, signal: controller.signal }).then(async (r) => {
        const bytes = Buffer.from(await r.arrayBuffer());
        stop();
        const res = new EventEmitter();
        res.statusCode = r.status;
        res.statusMessage = r.statusText;
        res.headers = {};
        r.headers.forEach((v, k) => { res.headers[k] = v; });
        let encoding = null;
        res.setEncoding = (e) => { encoding = e; return res; };
        res.resume = () => res;
        res[Symbol.asyncIterator] = async function* () { yield encoding ? bytes.toString(encoding) : bytes; };
        req.emit('response', res);
        queueMicrotask(() => {
          if (bytes.length) res.emit('data', encoding ? bytes.toString(encoding) : bytes);
          res.emit('end');
        });
      }, (e) => { stop(); req.emit('error', e); });
      return req;
    };
    return req;
  }
  return freeze({
    request,
    get(input, options, callback) { const req = request(input, options, callback); req.end(); return req; },
  });
}
