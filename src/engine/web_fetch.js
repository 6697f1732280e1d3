// WHATWG fetch over the Rust client (allow_hosts, private-address guard,
// size and time limits, in fetch.rs). Compiled to its own bytecode and
// loaded into a context on an Action's first `fetch` (prelude.js,
// `host.loadModule('fetch')`): most executions never fetch. Request,
// Response, Headers, FormData and Blob are web_classes.js's. Text bodies
// cross as text, others as base64. `currentOf()` is the running
// execution's recorder, null between executions; `jsonStringify`,
// `jsonParse` and `append` were taken before the Action loaded.
function build(host, web, currentOf, { jsonStringify, jsonParse, append }) {
  const hostFetch = host.fetch;
  const hostAbort = host.abortFetch;
  let nextFetch = 1;
  return async function fetch(input, init) {
    if (!hostFetch) throw new TypeError('fetch is unavailable: the HTTP client could not be created');
    const w = web.get();
    const req = new w.classes.Request(input, init);
    const signal = req.signal;
    if (signal && signal.aborted) throw signal.reason;
    const body = w.requestBody(req);
    const headers = [];
    req.headers.forEach((v, k) => { append(headers, [k, v]); });
    const request = { method: req.method, headers };
    if (body !== null && body.text !== undefined) request.body = body.text;
    else if (body !== null) request.body_base64 = body.bytes.toBase64();
    // A request made by an execution ends with it: one still pending then
    // rejects (so a promise kept in module scope can be retried), and its
    // result never reaches a later execution. A request made by module code
    // at load time belongs to no execution.
    const owner = currentOf();
    const token = nextFetch++;
    const pending = hostFetch(req.url, jsonStringify(request), owner !== null, token);
    let reply;
    if (signal) {
      let onAbort;
      const aborted = new Promise((_, reject) => {
        onAbort = () => {
          if (hostAbort) hostAbort(token);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        reply = await Promise.race([pending, aborted]);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    } else {
      reply = await pending;
    }
    if (owner !== null && currentOf() !== owner) {
      throw new TypeError('fetch failed: the execution that made this request has ended');
    }
    const r = jsonParse(reply);
    if (!r.ok) throw new TypeError(`fetch failed: ${r.error}`);
    const fields = { status: r.status, statusText: r.statusText, type: 'basic', url: r.url, redirected: r.url !== req.url };
    const responseBody = r.base64 !== undefined ? { bytes: Uint8Array.fromBase64(r.base64) } : { text: r.body };
    return w.response(fields, r.headers, responseBody);
  };
}
