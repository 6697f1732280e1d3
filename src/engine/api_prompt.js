// api.prompt.render (docs/auth0-compatibility.md#apipromptrender): suspends like a redirect; the upstream renders
// the Form and the browser comes back to /continue with its fields. Part of
// the api module (api_more.js says how the files are put together).
function apiPrompt(api, cur, cmd) {
  api.prompt = Object.freeze({
    render(formId, options) {
      const run = cur();
      if (run.redirected) throw new Error('Redirect and render commands cannot be used in the same action.');
      if (run.rendered) throw new Error('Only 1 render command per action is allowed.');
      if (typeof formId !== 'string' || formId.length === 0) throw new TypeError('prompt.render: the form id must be a non-empty string.');
      const o = options === undefined || options === null ? {} : options;
      if (typeof o !== 'object' || Array.isArray(o)) throw new TypeError('prompt.render: options must be an object.');
      const fields = o.fields === undefined ? {} : o.fields;
      const vars = o.vars === undefined ? {} : o.vars;
      for (const [name, v] of [['fields', fields], ['vars', vars]]) {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`prompt.render: options.${name} must be an object.`);
      }
      const text = JSON.stringify({ fields, vars });
      if (text.length > 24 * 1024) throw new RangeError('prompt.render: options must be at most 24 KiB of JSON.');
      const parsed = JSON.parse(text);
      // Recorded first: a command that cannot be written (a toJSON the
      // Action hung on Object.prototype throws) leaves no render behind.
      cmd({ op: 'render', id: formId, fields: parsed.fields, vars: parsed.vars });
      run.rendered = true;
    },
  });
}
