// api.authentication: part of the api module (api_more.js says how the
// files are put together).
function apiAuthentication(api, cur, cmd, self, jsonValue) {
  // ---- api.authentication ------------------------------------------------
  const CHALLENGE_TYPES = ['otp', 'email', 'webauthn-platform', 'webauthn-roaming', 'recovery-code',
                           'phone', 'push', 'push-notification'];
  const ENROLL_TYPES = ['otp', 'webauthn-platform', 'webauthn-roaming', 'push', 'push-notification',
                        'recovery-code', 'phone'];
  function factor(f, allowed, what) {
    if (f === null || typeof f !== 'object' || Array.isArray(f)) {
      throw new TypeError(`${what}: a factor must be an object like { type: 'otp' }.`);
    }
    if (!allowed.includes(f.type)) {
      throw new TypeError(`${what}: invalid factor type "${f.type}". Expected one of: ${allowed.join(', ')}.`);
    }
    const out = { type: f.type };
    if (f.options !== undefined) {
      const o = f.options;
      if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TypeError(`${what}: factor options must be an object.`);
      if (f.type === 'phone' && o.preferredMethod !== undefined && !['sms', 'voice', 'both'].includes(o.preferredMethod)) {
        throw new TypeError(`${what}: phone preferredMethod must be one of: sms, voice, both.`);
      }
      if ((f.type === 'push' || f.type === 'push-notification') && o.otpFallback !== undefined && typeof o.otpFallback !== 'boolean') {
        throw new TypeError(`${what}: push otpFallback must be a boolean.`);
      }
      out.options = jsonValue(o);
    }
    return out;
  }
  function factorList(list, allowed, what) {
    if (!Array.isArray(list) || list.length === 0) throw new TypeError(`${what}: expected a non-empty array of factors.`);
    return list.map((f) => factor(f, allowed, what));
  }
  const withAdditional = (kind, allowed, what) => function (f, options) {
    const factors = [factor(f, allowed, what)];
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object') throw new TypeError(`${what}: options must be an object.`);
      if (options.additionalFactors !== undefined) factors.push(...factorList(options.additionalFactors, allowed, what));
    }
    cmd({ op: 'authentication', kind, any: false, factors });
  };
  const anyOf = (kind, allowed, what) => function (list) {
    cmd({ op: 'authentication', kind, any: true, factors: factorList(list, allowed, what) });
  };
  api.authentication = Object.freeze({
    challengeWith: withAdditional('challenge', CHALLENGE_TYPES, 'challengeWith'),
    challengeWithAny: anyOf('challenge', CHALLENGE_TYPES, 'challengeWithAny'),
    enrollWith: withAdditional('enroll', ENROLL_TYPES, 'enrollWith'),
    enrollWithAny: anyOf('enroll', ENROLL_TYPES, 'enrollWithAny'),
    recordMethod(providerUrl) {
      if (cur().handler !== 'onContinuePostLogin') {
        throw new Error('api.authentication.recordMethod() can only be used in onContinuePostLogin.');
      }
      if (!isString(providerUrl) || !/^https?:\/\/[^\s]+$/i.test(providerUrl)) {
        throw new TypeError('recordMethod: the provider URL must be an http or https URL.');
      }
      cmd({ op: 'record_method', url: providerUrl, timestamp: new Date().toISOString() });
      return self();
    },
    setPrimaryUser(primaryUserId) {
      if (!nonEmpty(primaryUserId)) throw new TypeError('setPrimaryUser: the primary user id must be a non-empty string.');
      if (primaryUserId.length > 128) throw new RangeError('setPrimaryUser: the primary user id must be at most 128 characters long.');
      const run = cur();
      if (run.primaryUserSet ?? run.input.primary_user_set === true) {
        throw new Error('The primary user can only be altered once per transaction');
      }
      run.primaryUserSet = true;
      cmd({ op: 'primary_user', user_id: primaryUserId });
    },
  });

}
