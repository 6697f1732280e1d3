// The few HTTP helpers the provider and the relying party share: plain
// node:http, no framework.

/** Text for HTML element content and attribute values. */
export const escape = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An HTML page, never cached. */
export function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin:.5rem 0}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
.error{color:#b00}</style></head><body>${body}</body></html>`);
}

/** 303 See Other to `location`. */
export function redirect(res, location) {
  res.writeHead(303, { location, 'content-length': '0' });
  res.end();
}

/** An application/x-www-form-urlencoded body of at most `limit` bytes. */
export async function readForm(req, limit = 64 * 1024) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error('form body too large');
  }
  return new URLSearchParams(body);
}

/** What the post-login event says about the browser's request. */
export function requestInfo(req) {
  return {
    ip: req.socket.remoteAddress ?? '',
    hostname: (req.headers.host ?? '').replace(/:\d+$/, ''),
    method: req.method,
    userAgent: req.headers['user-agent'] ?? '',
    language: (req.headers['accept-language'] ?? '').split(/[,;]/)[0].trim(),
  };
}

/** The value of cookie `name` in the request, if it was sent. */
export function cookie(req, name) {
  for (const pair of (req.headers.cookie ?? '').split(/;\s*/)) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at) === name) return pair.slice(at + 1);
  }
  return undefined;
}
