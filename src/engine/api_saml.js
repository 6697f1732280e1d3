// api.samlResponse: part of the api module (api_more.js says how the files
// are put together).
function apiSaml(api, cur, cmd, self, jsonValue) {
  const utf8 = utf8Length;
  // ---- api.samlResponse (docs/auth0-compatibility.md#apisamlresponse) ----
  const samlOf = () => {
    const run = cur();
    return run.samlAttrs || (run.samlAttrs = Object.create(null));
  };
  const saml = {};
  const setting = (name, key, check) => {
    saml[name] = function (value) {
      cmd({ op: 'saml', key, value: check(value, name) });
      return self();
    };
  };
  const str = (max) => (v, name) => {
    if (!isString(v)) throw new TypeError(`samlResponse.${name}: expected a string.`);
    if (utf8(v) > max) throw new RangeError(`samlResponse.${name}: the value must be at most ${max} bytes.`);
    return v;
  };
  const bool = (v, name) => {
    if (typeof v !== 'boolean') throw new TypeError(`samlResponse.${name}: expected a boolean.`);
    return v;
  };
  const oneOf = (list) => (v, name) => {
    if (!list.includes(v)) throw new TypeError(`samlResponse.${name}: expected one of: ${list.join(', ')}.`);
    return v;
  };
  setting('setAudience', 'audience', str(2048));
  setting('setRecipient', 'recipient', str(2048));
  setting('setDestination', 'destination', str(2048));
  setting('setNameIdentifierFormat', 'name_identifier_format', str(512));
  setting('setAuthnContextClassRef', 'authn_context_class_ref', str(512));
  setting('setSigningCert', 'signing_cert', str(4096));
  setting('setEncryptionCert', 'encryption_cert', str(4096));
  setting('setEncryptionPublicKey', 'encryption_public_key', str(4096));
  setting('setCert', 'cert', str(4096));
  setting('setKey', 'key', str(4096));
  setting('setRelayState', 'relay_state', str(512));
  setting('setIssuer', 'issuer', str(512));
  for (const [name, key] of [['setCreateUpnClaim', 'create_upn_claim'],
    ['setPassthroughClaimsWithNoMapping', 'passthrough_claims_with_no_mapping'],
    ['setMapUnknownClaimsAsIs', 'map_unknown_claims_as_is'], ['setMapIdentities', 'map_identities'],
    ['setSignResponse', 'sign_response'], ['setIncludeAttributeNameFormat', 'include_attribute_name_format'],
    ['setTypedAttributes', 'typed_attributes']]) setting(name, key, bool);
  setting('setSignatureAlgorithm', 'signature_algorithm', oneOf(['rsa-sha256', 'rsa-sha1']));
  setting('setDigestAlgorithm', 'digest_algorithm', oneOf(['sha256', 'sha1']));
  setting('setEncryptionAlgorithm', 'encryption_algorithm', oneOf(['aes256-gcm', 'aes256-cbc']));
  setting('setLifetimeInSeconds', 'lifetime_in_seconds', (v, name) => {
    if (!Number.isInteger(v) || v <= 0) throw new TypeError(`samlResponse.${name}: expected a positive integer.`);
    return v;
  });
  setting('setNameIdentifierProbes', 'name_identifier_probes', (v, name) => {
    if (!Array.isArray(v) || !v.every(isString)) throw new TypeError(`samlResponse.${name}: expected an array of strings.`);
    if (v.length > 10) throw new RangeError(`samlResponse.${name}: at most 10 probes.`);
    v.forEach((p) => str(512)(p, name));
    return v.slice();
  });
  saml.setAttribute = function (attribute, value) {
    if (!nonEmpty(attribute)) throw new TypeError('samlResponse.setAttribute: the attribute name must be a non-empty string.');
    if (utf8(attribute) > 1024) throw new RangeError('samlResponse.setAttribute: the attribute name must be at most 1024 bytes.');
    const v = value === undefined ? null : jsonValue(value);
    if (v !== null && utf8(JSON.stringify(v)) > 2048) {
      throw new RangeError('samlResponse.setAttribute: the attribute value must be at most 2048 bytes.');
    }
    const samlAttrs = samlOf();
    if (!(attribute in samlAttrs) && Object.keys(samlAttrs).length >= 100) {
      throw new RangeError('samlResponse.setAttribute: at most 100 attributes can be changed.');
    }
    samlAttrs[attribute] = v;
    const total = Object.keys(samlAttrs).reduce((n, k) => n + utf8(k) + utf8(JSON.stringify(samlAttrs[k])), 0);
    if (total > 10240) {
      delete samlAttrs[attribute];
      throw new RangeError('samlResponse.setAttribute: the changed attributes must be at most 10 KB in total.');
    }
    cmd({ op: 'saml_attribute', name: attribute, value: v });
    return self();
  };
  api.samlResponse = Object.freeze(saml);

}
