// Editor types for Detour's post-login Actions: the `event` and `api` an
// Action receives (docs/auth0-compatibility.md) with the names Auth0's editor uses,
// `Event` and `PostLoginAPI`, plus the globals and `require` modules Detour
// provides. Use them from plain JavaScript with JSDoc:
//
//   /**
//    * @param {Event} event
//    * @param {PostLoginAPI} api
//    */
//   exports.onExecutePostLogin = async (event, api) => { ... };
//
// `actions/jsconfig.json` includes this file, turns on `checkJs` and uses
// `lib: ["es2022"]` without the DOM (whose own `Event` would otherwise be
// meant). Check with: `tsc -p actions/jsconfig.json --noEmit`.
//
// This is a script file (no import/export), so everything here is global.
// Members Detour does not implement (`api.groups`, `api.roles`,
// `api.transaction.*TargetScope*`) are left out on purpose.

/** Types shared by `Event` and `PostLoginAPI`. */
declare namespace DetourActions {
  type StringMap = { [key: string]: string };
  type JsonObject = { [key: string]: any };
  type Confidence = 'low' | 'medium' | 'high' | 'neutral';

  interface Device {
    initial_asn?: string;
    initial_ip?: string;
    initial_user_agent?: string;
    last_asn?: string;
    last_ip?: string;
    last_user_agent?: string;
  }

  interface AuthenticationMethod {
    /** `federated`, `pwd`, `passkey`, `sms`, `email`, `phone_number`, `mock`, `mfa`, or a URL from `recordMethod`. */
    name: string;
    timestamp: string;
    /** The factor type when `name` is `mfa` (e.g. `otp`, `webauthn-platform`). */
    type?: string;
  }

  interface RiskAssessment {
    confidence: Confidence;
    version: string;
    assessments: {
      ImpossibleTravel?: { code: string; confidence: Confidence };
      NewDevice?: {
        code: string;
        confidence: Confidence;
        details?: { device?: 'known' | 'unknown'; useragent?: 'known' | 'unknown' };
      };
      UntrustedIP?: {
        code: string;
        confidence: Confidence;
        details?: { category?: string; ip?: string; matches?: string; source?: string };
      };
      AgentDetection?: {
        code: 'unknown' | 'verified_agent';
        confidence: Confidence;
        details?: { provider?: string };
      };
    };
    supplemental?: JsonObject;
  }

  interface GeoIp {
    cityName?: string;
    continentCode?: string;
    countryCode?: string;
    countryCode3?: string;
    countryName?: string;
    latitude?: number;
    longitude?: number;
    subdivisionCode?: string;
    subdivisionName?: string;
    timeZone?: string;
  }

  interface Request {
    /** Originating client IP. */
    ip: string;
    /** HTTP method of the request that (re)started the trigger. */
    method: string;
    /** Query parameters of the authorization request (on resume: of `/continue`). */
    query: JsonObject;
    /** POST body parameters. */
    body: JsonObject;
    geoip: GeoIp;
    hostname?: string;
    language?: string;
    user_agent?: string;
    asn?: string;
  }

  type Protocol =
    | 'oidc-basic-profile' | 'oidc-ciba' | 'oidc-ciba-web-link' | 'oidc-implicit-profile'
    | 'oauth2-device-code' | 'oauth2-resource-owner' | 'oauth2-resource-owner-jwt-bearer'
    | 'oauth2-password' | 'oauth2-webauthn' | 'oauth2-access-token' | 'oauth2-refresh-token'
    | 'oauth2-token-exchange' | 'oidc-hybrid-profile' | 'samlp' | 'wsfed' | 'wstrust-usernamemixed';

  interface Transaction {
    id?: string;
    protocol?: Protocol;
    acr_values?: string[];
    ui_locales?: string[];
    requested_scopes?: string[];
    prompt?: string[];
    response_type?: Array<'code' | 'token' | 'id_token'>;
    response_mode?: 'query' | 'fragment' | 'form_post' | 'web_message';
    redirect_uri?: string;
    /** The application's own OAuth `state`. */
    state?: string;
    login_hint?: string;
    locale?: string;
    linking_id?: string;
    correlation_id?: string;
    requested_authorization_details?: Array<{ type: string; [key: string]: any }>;
    actor?: JsonObject;
    actor_token_type?: string;
    subject_token_type?: string;
    /** Transaction metadata (see `api.transaction.setMetadata`). Always an object. */
    metadata: { [key: string]: string | number | boolean };
  }

  interface Identity {
    connection?: string;
    provider?: string;
    user_id?: string;
    isSocial?: boolean;
    profileData?: JsonObject;
    [key: string]: any;
  }

  interface User {
    user_id: string;
    created_at: string;
    updated_at: string;
    email_verified: boolean;
    email?: string;
    username?: string;
    name?: string;
    nickname?: string;
    given_name?: string;
    family_name?: string;
    picture?: string;
    phone_number?: string;
    phone_verified?: boolean;
    last_password_reset?: string;
    /** Always an object. */
    app_metadata: JsonObject;
    /** Always an object. */
    user_metadata: JsonObject;
    identities: Identity[];
    multifactor?: string[];
    enrolledFactors?: Array<{ type: string; options?: JsonObject }>;
    [key: string]: any;
  }

  interface Session {
    id: string;
    user_id?: string;
    created_at?: string;
    updated_at?: string;
    authenticated_at?: string;
    last_interacted_at?: string;
    expires_at?: string;
    idle_expires_at?: string;
    clients?: Array<{ client_id: string }>;
    cookie?: { mode: 'persistent' | 'non-persistent' };
    device?: Device;
    metadata?: JsonObject;
    actor?: { sub: string; [key: string]: any };
    session_transfer?: { parent_refresh_token?: { id?: string; metadata?: JsonObject } };
  }

  interface RefreshToken {
    id: string;
    client_id?: string;
    created_at: string;
    expires_at?: string;
    idle_expires_at?: string;
    last_exchanged_at?: string;
    rotating?: boolean;
    session_id?: string;
    user_id?: string;
    metadata?: JsonObject;
    resource_servers?: Array<{ audience: string; scopes: string }>;
    device?: Device;
    session_transfer?: { parent_refresh_token?: { id?: string } };
    access?: 'offline' | 'online';
  }

  /** The post-login `event` (docs/auth0-compatibility.md#the-event). */
  interface PostLoginEvent {
    authentication?: { methods: AuthenticationMethod[]; riskAssessment?: RiskAssessment };
    /** Always present in Detour (roles default to `[]`). */
    authorization: { roles: string[] };
    client: {
      client_id: string;
      name: string;
      metadata: StringMap;
      refresh_token?: { policies?: Array<{ audience?: string; scope?: string[] }> };
      [key: string]: any;
    };
    /** `metadata` is always an object in Detour. */
    connection: { id: string; name: string; strategy: string; metadata: StringMap };
    custom_domain?: { domain: string; domain_metadata: StringMap };
    organization?: { id: string; name: string; display_name: string; metadata: StringMap; [key: string]: any };
    /** Present in `onContinuePostLogin` after `api.prompt.render`. */
    prompt?: { id: string; fields?: JsonObject; vars?: JsonObject };
    refresh_token?: RefreshToken;
    request: Request;
    resource_server?: { identifier: string };
    /** This Action's secrets, from Detour's configuration. */
    secrets: StringMap;
    configuration: {};
    security_context?: { ja3?: string; ja4?: string };
    session?: Session;
    session_transfer_token?: {
      client_id: string;
      scope: string[];
      request: { ip: string; asn?: string; user_agent?: string; geoip?: GeoIp };
    };
    stats: { logins_count: number };
    /** `id` is the tenant name. */
    tenant: { id: string };
    /** Always present in Detour (`metadata` defaults to `{}`). */
    transaction: Transaction;
    user: User;
    /** Rule ids the upstream reports as run (read by `api.rules.wasExecuted`). */
    rules_executed?: string[];
  }

  type FactorSelector =
    | { type: 'otp' | 'email' | 'webauthn-platform' | 'webauthn-roaming' | 'recovery-code'; options?: JsonObject }
    | { type: 'phone'; options?: { preferredMethod?: 'sms' | 'voice' | 'both' } }
    | { type: 'push' | 'push-notification'; options?: { otpFallback?: boolean } };

  type EnrollmentFactorSelector =
    | { type: 'otp' | 'webauthn-platform' | 'webauthn-roaming' | 'push' | 'push-notification' | 'recovery-code'; options?: JsonObject }
    | { type: 'phone'; options?: { preferredMethod?: 'sms' | 'voice' | 'both' } };

  interface CacheRecord {
    value: string;
    /** Milliseconds since the epoch. */
    expires_at: number;
  }
  type CacheErrorCode =
    | 'MaxSideEffectsExceeded' | 'CacheKeySizeExceeded' | 'CacheValueSizeExceeded' | 'CacheSizeExceeded'
    | 'ItemAlreadyExpired' | 'InvalidExpiry' | 'FailedToSetCacheRecord' | 'FailedToDeleteCacheRecord'
    | 'CacheKeyDoesNotExist';
  type CacheError = { type: 'error'; code: CacheErrorCode };

  interface MetadataAPI {
    /** Key `^[a-zA-Z0-9_-]{1,255}$`, value ≤ 255 characters; `null` deletes; ≤ 25 keys. */
    setMetadata(key: string, value: string | null): PostLoginAPI;
    deleteMetadata(key: string): PostLoginAPI;
    evictMetadata(): PostLoginAPI;
  }

  type SamlSetter<T> = (value: T) => PostLoginAPI;
}

/** The post-login `event` (docs/auth0-compatibility.md#the-event). */
interface Event extends DetourActions.PostLoginEvent {}

/** The post-login `api` (docs/auth0-compatibility.md). Calls record commands; Detour applies them after the Action. */
interface PostLoginAPI {
  access: {
    /** Ends the login with `access_denied`; the rest of this Action still runs, later Actions do not. */
    deny(reason: string): PostLoginAPI;
  };
  accessToken: {
    /** `scope` is refused; Auth0's restricted claims are left out. */
    setCustomClaim(name: string, value: unknown): PostLoginAPI;
    addScope(scope: string): void;
    removeScope(scope: string): void;
  };
  idToken: {
    setCustomClaim(name: string, value: unknown): PostLoginAPI;
  };
  authentication: {
    challengeWith(factor: DetourActions.FactorSelector, options?: { additionalFactors?: DetourActions.FactorSelector[] }): void;
    challengeWithAny(factors: DetourActions.FactorSelector[]): void;
    enrollWith(factor: DetourActions.EnrollmentFactorSelector, options?: { additionalFactors?: DetourActions.EnrollmentFactorSelector[] }): void;
    enrollWithAny(factors: DetourActions.EnrollmentFactorSelector[]): void;
    /** Only in `onContinuePostLogin`; an http(s) URL. */
    recordMethod(providerUrl: string): PostLoginAPI;
    /** Once per transaction; ≤ 128 characters. */
    setPrimaryUser(primaryUserId: string): void;
  };
  cache: {
    get(key: string): DetourActions.CacheRecord | undefined;
    /** `ttl` in ms, `expires_at` in ms since the epoch; the earlier wins. Default lifetime 15 minutes. */
    set(key: string, value: string, options?: { ttl?: number; expires_at?: number }):
      { type: 'success'; record: DetourActions.CacheRecord } | DetourActions.CacheError;
    delete(key: string): { type: 'success' } | DetourActions.CacheError;
  };
  multifactor: {
    enable(provider: 'duo', options?: {
      allowRememberBrowser?: boolean;
      providerOptions?: { host: string; ikey: string; skey: string; username?: string };
    }): PostLoginAPI;
    enable(provider: 'any' | 'guardian' | 'google-authenticator' | 'none', options?: { allowRememberBrowser?: boolean }): PostLoginAPI;
  };
  redirect: {
    /** @deprecated Auth0 deprecated it in post-login v3. */
    canRedirect(): boolean;
    /** An HS256 JWT with `iat`, `iss`, `sub`, `exp` (default 900 s), `ip`, then `payload`. */
    encodeToken(options: { secret: string; payload: { [key: string]: any }; expiresInSeconds?: number }): string;
    sendUserTo(url: string, options?: { query?: { [key: string]: string } }): PostLoginAPI;
    /** Reads `session_token` (or `tokenParameterName`) from the `/continue` request; returns its payload. */
    validateToken(options: { secret: string; tokenParameterName?: string }): any;
  };
  user: {
    /** `null` removes the key. */
    setAppMetadata(key: string, value: unknown): PostLoginAPI;
    /** `null` removes the key. */
    setUserMetadata(key: string, value: unknown): PostLoginAPI;
  };
  transaction: {
    /** Visible at once in `event.transaction.metadata`; `null` removes the key. */
    setMetadata(key: string, value: string | number | boolean | null): void;
  };
  session: DetourActions.MetadataAPI & {
    revoke(reason: string, options?: { preserveRefreshTokens?: boolean }): PostLoginAPI;
    /** Milliseconds since the epoch; the earliest wins. */
    setExpiresAt(at: number): PostLoginAPI;
    setIdleExpiresAt(at: number): PostLoginAPI;
    setCookieMode(mode: 'persistent' | 'non-persistent'): PostLoginAPI;
  };
  refreshToken: DetourActions.MetadataAPI & {
    /** Only when `event.transaction.protocol` is `oauth2-refresh-token`. */
    revoke(reason: string): PostLoginAPI;
    setExpiresAt(at: number): PostLoginAPI;
    setIdleExpiresAt(at: number): PostLoginAPI;
  };
  samlResponse: {
    /** `null` or `undefined` removes the attribute. */
    setAttribute(attribute: string, value: unknown): PostLoginAPI;
    setAudience: DetourActions.SamlSetter<string>;
    setRecipient: DetourActions.SamlSetter<string>;
    setDestination: DetourActions.SamlSetter<string>;
    setCreateUpnClaim: DetourActions.SamlSetter<boolean>;
    setPassthroughClaimsWithNoMapping: DetourActions.SamlSetter<boolean>;
    setMapUnknownClaimsAsIs: DetourActions.SamlSetter<boolean>;
    setMapIdentities: DetourActions.SamlSetter<boolean>;
    setSignResponse: DetourActions.SamlSetter<boolean>;
    setIncludeAttributeNameFormat: DetourActions.SamlSetter<boolean>;
    setTypedAttributes: DetourActions.SamlSetter<boolean>;
    setSignatureAlgorithm: DetourActions.SamlSetter<'rsa-sha256' | 'rsa-sha1'>;
    setDigestAlgorithm: DetourActions.SamlSetter<'sha256' | 'sha1'>;
    setEncryptionAlgorithm: DetourActions.SamlSetter<'aes256-gcm' | 'aes256-cbc'>;
    setLifetimeInSeconds: DetourActions.SamlSetter<number>;
    setNameIdentifierFormat: DetourActions.SamlSetter<string>;
    setNameIdentifierProbes: DetourActions.SamlSetter<string[]>;
    setAuthnContextClassRef: DetourActions.SamlSetter<string>;
    setSigningCert: DetourActions.SamlSetter<string>;
    setEncryptionCert: DetourActions.SamlSetter<string>;
    setEncryptionPublicKey: DetourActions.SamlSetter<string>;
    setCert: DetourActions.SamlSetter<string>;
    setKey: DetourActions.SamlSetter<string>;
    setRelayState: DetourActions.SamlSetter<string>;
    setIssuer: DetourActions.SamlSetter<string>;
  };
  rules: {
    wasExecuted(ruleId: string): boolean;
  };
  validation: {
    error(errorCode: string, errorMessage: string): PostLoginAPI;
  };
  prompt: {
    /** Suspends like a redirect; resumes in this Action's `onContinuePostLogin` with `event.prompt`. */
    render(formId: string, options?: { fields?: { [key: string]: any }; vars?: { [key: string]: any } }): void;
  };
}

// ---- Globals Detour provides (src/engine/prelude.js, globals.js) ----------
// Declared here because the jsconfig leaves out the DOM and @types/node.

interface Console {
  log(...data: any[]): void;
  info(...data: any[]): void;
  warn(...data: any[]): void;
  error(...data: any[]): void;
  debug(...data: any[]): void;
  trace(...data: any[]): void;
}
declare var console: Console;

/** Node's timer object: `ref`/`unref`/`hasRef` are no-ops; it converts to its id. */
interface DetourTimeout {
  ref(): DetourTimeout;
  unref(): DetourTimeout;
  hasRef(): boolean;
  refresh(): DetourTimeout;
  [Symbol.toPrimitive](): number;
}
declare function setTimeout(callback: (...args: any[]) => void, delay?: number, ...args: any[]): DetourTimeout;
declare function setInterval(callback: (...args: any[]) => void, delay?: number, ...args: any[]): DetourTimeout;
declare function setImmediate(callback: (...args: any[]) => void, ...args: any[]): DetourTimeout;
declare function clearTimeout(timer: DetourTimeout | number | undefined): void;
declare function clearInterval(timer: DetourTimeout | number | undefined): void;
declare function clearImmediate(timer: DetourTimeout | number | undefined): void;
declare function queueMicrotask(callback: () => void): void;
declare function atob(data: string): string;
declare function btoa(data: string): string;
declare function structuredClone<T>(value: T): T;
declare var performance: { now(): number };
declare var global: typeof globalThis;
/** A Node 22-shaped process with an empty `env`. */
declare var process: {
  env: { [name: string]: string | undefined };
  version: string;
  versions: { [name: string]: string };
  platform: string;
  nextTick(callback: (...args: any[]) => void, ...args: any[]): void;
  hrtime: { (previous?: [number, number]): [number, number]; bigint(): bigint };
  cwd(): string;
  emitWarning(...args: any[]): void;
  [key: string]: any;
};

declare class DOMException extends Error {
  constructor(message?: string, name?: string);
  readonly code: number;
}
// The global `Event` class exists at run time but is not declared here:
// `Event` is the post-login event's type above.
declare class EventTarget {
  addEventListener(type: string, listener: ((event: any) => void) | null, options?: { once?: boolean; signal?: AbortSignal } | boolean): void;
  removeEventListener(type: string, listener: ((event: any) => void) | null): void;
  dispatchEvent(event: any): boolean;
}
declare class AbortSignal extends EventTarget {
  readonly aborted: boolean;
  readonly reason: any;
  onabort: ((event: any) => void) | null;
  throwIfAborted(): void;
  static abort(reason?: any): AbortSignal;
  static timeout(ms: number): AbortSignal;
  static any(signals: Iterable<AbortSignal>): AbortSignal;
}
declare class AbortController {
  readonly signal: AbortSignal;
  abort(reason?: any): void;
}
declare class Headers {
  constructor(init?: Headers | { [name: string]: string } | Array<[string, string]>);
  append(name: string, value: string): void;
  set(name: string, value: string): void;
  delete(name: string): void;
  get(name: string): string | null;
  getSetCookie(): string[];
  has(name: string): boolean;
  forEach(callback: (value: string, name: string, headers: Headers) => void): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}
declare class Blob {
  constructor(parts?: Array<string | ArrayBuffer | ArrayBufferView | Blob>, options?: { type?: string });
  readonly size: number;
  readonly type: string;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  slice(start?: number, end?: number, type?: string): Blob;
}
declare class File extends Blob {
  constructor(parts: Array<string | ArrayBuffer | ArrayBufferView | Blob>, name: string, options?: { type?: string; lastModified?: number });
  readonly name: string;
  readonly lastModified: number;
}
type FormDataValue = string | File;
declare class FormData {
  append(name: string, value: string | Blob, filename?: string): void;
  set(name: string, value: string | Blob, filename?: string): void;
  get(name: string): FormDataValue | null;
  getAll(name: string): FormDataValue[];
  has(name: string): boolean;
  delete(name: string): void;
  forEach(callback: (value: FormDataValue, name: string, form: FormData) => void): void;
  entries(): IterableIterator<[string, FormDataValue]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<FormDataValue>;
  [Symbol.iterator](): IterableIterator<[string, FormDataValue]>;
}
type BodyInit = string | URLSearchParams | FormData | Blob | ArrayBuffer | ArrayBufferView;
interface RequestInit {
  method?: string;
  headers?: Headers | { [name: string]: string } | Array<[string, string]>;
  body?: BodyInit | null;
  signal?: AbortSignal | null;
  redirect?: string;
}
interface DetourBody {
  readonly bodyUsed: boolean;
  text(): Promise<string>;
  json(): Promise<any>;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  blob(): Promise<Blob>;
  formData(): Promise<FormData>;
}
declare class Request implements DetourBody {
  constructor(input: string | URL | Request, init?: RequestInit);
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly signal: AbortSignal | null;
  readonly bodyUsed: boolean;
  text(): Promise<string>;
  json(): Promise<any>;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  blob(): Promise<Blob>;
  formData(): Promise<FormData>;
  clone(): Request;
}
declare class Response implements DetourBody {
  constructor(body?: BodyInit | null, init?: { status?: number; statusText?: string; headers?: Headers | { [name: string]: string } | Array<[string, string]> });
  static json(data: any, init?: { status?: number; statusText?: string; headers?: { [name: string]: string } }): Response;
  static error(): Response;
  static redirect(url: string, status?: number): Response;
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly url: string;
  readonly redirected: boolean;
  readonly type: string;
  readonly headers: Headers;
  readonly bodyUsed: boolean;
  text(): Promise<string>;
  json(): Promise<any>;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  blob(): Promise<Blob>;
  formData(): Promise<FormData>;
  clone(): Response;
}
/** Outbound HTTP, limited to the Action's `allow_hosts`. */
declare function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;

declare class URLSearchParams {
  constructor(init?: string | { [key: string]: string } | Array<[string, string]> | URLSearchParams);
  readonly size: number;
  append(name: string, value: string): void;
  delete(name: string, value?: string): void;
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string, value?: string): boolean;
  set(name: string, value: string): void;
  sort(): void;
  forEach(callback: (value: string, name: string, params: URLSearchParams) => void): void;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  entries(): IterableIterator<[string, string]>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
  toString(): string;
}

declare class URL {
  constructor(url: string | URL, base?: string | URL);
  static canParse(url: string, base?: string): boolean;
  hash: string;
  host: string;
  hostname: string;
  href: string;
  readonly origin: string;
  password: string;
  pathname: string;
  port: string;
  protocol: string;
  search: string;
  readonly searchParams: URLSearchParams;
  username: string;
  toString(): string;
  toJSON(): string;
}

declare class TextEncoder {
  readonly encoding: string;
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  readonly encoding: string;
  decode(input?: ArrayBuffer | ArrayBufferView): string;
}

/** Node's Buffer (the subset Detour implements; typed loosely). */
declare var Buffer: {
  from(value: string | ArrayBuffer | ArrayLike<number>, encoding?: string): any;
  alloc(size: number, fill?: any): any;
  concat(list: any[], length?: number): any;
  isBuffer(value: any): boolean;
  byteLength(value: string, encoding?: string): number;
  [key: string]: any;
};

/** WebCrypto: random values and `subtle` (HMAC, RSASSA-PKCS1-v1_5, RSA-PSS, ECDSA; digests). */
declare var crypto: {
  randomUUID(): string;
  getRandomValues<T extends ArrayBufferView>(array: T): T;
  subtle: {
    digest(algorithm: string | { name: string }, data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer>;
    importKey(format: 'raw' | 'jwk' | 'spki' | 'pkcs8', keyData: any, algorithm: any, extractable: boolean, usages: string[]): Promise<any>;
    exportKey(format: 'raw' | 'jwk' | 'spki' | 'pkcs8', key: any): Promise<any>;
    sign(algorithm: any, key: any, data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer>;
    verify(algorithm: any, key: any, signature: ArrayBuffer | ArrayBufferView, data: ArrayBuffer | ArrayBufferView): Promise<boolean>;
  };
};

// ---- require ----------------------------------------------------------------
// Detour's Node built-ins (also as `node:<name>`). Anything else fails to load.

interface DetourHash {
  update(data: string | ArrayBufferView, encoding?: string): DetourHash;
  digest(): any;
  digest(encoding: 'hex' | 'base64' | 'base64url' | 'latin1' | 'binary'): string;
}
interface DetourSigner {
  update(data: string | ArrayBufferView, encoding?: string): DetourSigner;
  sign(key: any, encoding?: string): any;
  verify(key: any, signature: string | ArrayBufferView, encoding?: string): boolean;
}
interface DetourCrypto {
  /** `md5`, `sha1`, `sha224`, `sha256`, `sha384` or `sha512`. */
  createHash(algorithm: string): DetourHash;
  createHmac(algorithm: string, key: any, encoding?: string): DetourHash;
  /** RSA (PKCS#1 v1.5, PSS) and ECDSA P-256/P-384. */
  createSign(algorithm: string): DetourSigner;
  createVerify(algorithm: string): DetourSigner;
  sign(algorithm: string | null | undefined, data: ArrayBufferView, key: any): any;
  verify(algorithm: string | null | undefined, data: ArrayBufferView, key: any, signature: ArrayBufferView): boolean;
  createPublicKey(key: any): any;
  createPrivateKey(key: any): any;
  createSecretKey(key: any, encoding?: string): any;
  KeyObject: any;
  constants: { [name: string]: number };
  subtle: typeof crypto.subtle;
  [key: string]: any;
  randomBytes(size: number): any;
  randomUUID(): string;
  getRandomValues<T extends ArrayBufferView>(array: T): T;
  timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean;
  getHashes(): string[];
  webcrypto: typeof crypto;
}
declare module 'crypto' { const crypto: DetourCrypto; export = crypto; }
declare module 'node:crypto' { const crypto: DetourCrypto; export = crypto; }

interface DetourUrlModule {
  URL: typeof URL;
  URLSearchParams: typeof URLSearchParams;
  parse(url: string, parseQueryString?: boolean): any;
  format(url: any): string;
  [key: string]: any;
}
declare module 'url' { const url: DetourUrlModule; export = url; }
declare module 'node:url' { const url: DetourUrlModule; export = url; }

interface DetourQuerystring {
  parse(text: string, sep?: string, eq?: string): { [key: string]: string | string[] };
  stringify(obj: { [key: string]: any }, sep?: string, eq?: string): string;
  escape(text: string): string;
  unescape(text: string): string;
  [key: string]: any;
}
declare module 'querystring' { const qs: DetourQuerystring; export = qs; }
declare module 'node:querystring' { const qs: DetourQuerystring; export = qs; }

interface DetourUtil {
  format(format?: any, ...args: any[]): string;
  inspect: { (value: any, options?: any): string; custom: symbol };
  promisify(fn: (...args: any[]) => void): (...args: any[]) => Promise<any>;
  isDeepStrictEqual(a: any, b: any): boolean;
  TextEncoder: typeof TextEncoder;
  TextDecoder: typeof TextDecoder;
  types: { [name: string]: (value: any) => boolean };
  inherits(ctor: any, superCtor: any): void;
  deprecate<T>(fn: T, message?: string): T;
  callbackify(fn: (...args: any[]) => Promise<any>): (...args: any[]) => void;
  [key: string]: any;
}
declare module 'util' { const util: DetourUtil; export = util; }
declare module 'node:util' { const util: DetourUtil; export = util; }

interface DetourBufferModule {
  Buffer: typeof Buffer;
  atob: typeof atob;
  btoa: typeof btoa;
}
declare module 'buffer' { const buffer: DetourBufferModule; export = buffer; }
declare module 'node:buffer' { const buffer: DetourBufferModule; export = buffer; }

// Node built-ins sized for the npm packages Actions use (typed loosely:
// each module is callable, for `Stream.call(this)` and `new EventEmitter()`
// in JS, with its members named).
declare module 'events' { namespace m { const EventEmitter: any; const once: any; const errorMonitor: any; const defaultMaxListeners: any; const listenerCount: any; } function m(...args: any[]): any; export = m; }
declare module 'node:events' { namespace m { const EventEmitter: any; const once: any; const errorMonitor: any; const defaultMaxListeners: any; const listenerCount: any; } function m(...args: any[]): any; export = m; }
declare module 'stream' { namespace m { const Stream: any; const Readable: any; const Writable: any; const Duplex: any; const Transform: any; const PassThrough: any; const pipeline: any; const finished: any; const promises: any; } function m(...args: any[]): any; export = m; }
declare module 'node:stream' { namespace m { const Stream: any; const Readable: any; const Writable: any; const Duplex: any; const Transform: any; const PassThrough: any; const pipeline: any; const finished: any; const promises: any; } function m(...args: any[]): any; export = m; }
declare module 'string_decoder' { namespace m { const StringDecoder: any; } function m(...args: any[]): any; export = m; }
declare module 'node:string_decoder' { namespace m { const StringDecoder: any; } function m(...args: any[]): any; export = m; }
declare module 'assert' { namespace m { const ok: any; const equal: any; const notEqual: any; const strictEqual: any; const notStrictEqual: any; const deepEqual: any; const notDeepEqual: any; const deepStrictEqual: any; const notDeepStrictEqual: any; const throws: any; const doesNotThrow: any; const rejects: any; const doesNotReject: any; const fail: any; const match: any; const doesNotMatch: any; const ifError: any; const AssertionError: any; const strict: any; } function m(...args: any[]): any; export = m; }
declare module 'node:assert' { namespace m { const ok: any; const equal: any; const notEqual: any; const strictEqual: any; const notStrictEqual: any; const deepEqual: any; const notDeepEqual: any; const deepStrictEqual: any; const notDeepStrictEqual: any; const throws: any; const doesNotThrow: any; const rejects: any; const doesNotReject: any; const fail: any; const match: any; const doesNotMatch: any; const ifError: any; const AssertionError: any; const strict: any; } function m(...args: any[]): any; export = m; }
declare module 'assert/strict' { namespace m { const ok: any; const equal: any; const notEqual: any; const strictEqual: any; const notStrictEqual: any; const deepEqual: any; const notDeepEqual: any; const deepStrictEqual: any; const notDeepStrictEqual: any; const throws: any; const doesNotThrow: any; const rejects: any; const doesNotReject: any; const fail: any; const match: any; const doesNotMatch: any; const ifError: any; const AssertionError: any; const strict: any; } function m(...args: any[]): any; export = m; }
declare module 'node:assert/strict' { namespace m { const ok: any; const equal: any; const notEqual: any; const strictEqual: any; const notStrictEqual: any; const deepEqual: any; const notDeepEqual: any; const deepStrictEqual: any; const notDeepStrictEqual: any; const throws: any; const doesNotThrow: any; const rejects: any; const doesNotReject: any; const fail: any; const match: any; const doesNotMatch: any; const ifError: any; const AssertionError: any; const strict: any; } function m(...args: any[]): any; export = m; }
declare module 'path' { namespace m { const sep: any; const delimiter: any; const normalize: any; const join: any; const resolve: any; const isAbsolute: any; const dirname: any; const basename: any; const extname: any; const relative: any; const parse: any; const format: any; const posix: any; const win32: any; } function m(...args: any[]): any; export = m; }
declare module 'node:path' { namespace m { const sep: any; const delimiter: any; const normalize: any; const join: any; const resolve: any; const isAbsolute: any; const dirname: any; const basename: any; const extname: any; const relative: any; const parse: any; const format: any; const posix: any; const win32: any; } function m(...args: any[]): any; export = m; }
declare module 'os' { namespace m { const EOL: any; const platform: any; const type: any; const arch: any; const release: any; const hostname: any; const homedir: any; const tmpdir: any; const endianness: any; const cpus: any; const totalmem: any; const freemem: any; const networkInterfaces: any; const userInfo: any; } function m(...args: any[]): any; export = m; }
declare module 'node:os' { namespace m { const EOL: any; const platform: any; const type: any; const arch: any; const release: any; const hostname: any; const homedir: any; const tmpdir: any; const endianness: any; const cpus: any; const totalmem: any; const freemem: any; const networkInterfaces: any; const userInfo: any; } function m(...args: any[]): any; export = m; }
declare module 'timers' { namespace m { const setTimeout: any; const setInterval: any; const setImmediate: any; const clearTimeout: any; const clearInterval: any; const clearImmediate: any; const promises: any; } function m(...args: any[]): any; export = m; }
declare module 'node:timers' { namespace m { const setTimeout: any; const setInterval: any; const setImmediate: any; const clearTimeout: any; const clearInterval: any; const clearImmediate: any; const promises: any; } function m(...args: any[]): any; export = m; }
declare module 'timers/promises' { namespace m { const setTimeout: any; const setImmediate: any; } function m(...args: any[]): any; export = m; }
declare module 'node:timers/promises' { namespace m { const setTimeout: any; const setImmediate: any; } function m(...args: any[]): any; export = m; }
