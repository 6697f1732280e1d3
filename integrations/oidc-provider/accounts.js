// The demo user store: three fixed users, password "demo". A real IdP has a
// database; what matters here is that it keeps what Detour's outcomes change
// (app_metadata, user_metadata), so the next login sees it.

const PASSWORD = 'demo';

const people = [
  // Has to accept the terms of service (examples/demo/actions/terms.js).
  { username: 'jane', user_id: 'oidc|jane', email: 'jane@yourcompany.com', given_name: 'Jane', family_name: 'Doe', roles: ['admin', 'editor'], app_metadata: {} },
  { username: 'bob', user_id: 'oidc|bob', email: 'bob@yourcompany.com', given_name: 'Bob', family_name: 'Builder', roles: ['viewer'], app_metadata: {} },
  // Many roles: with the terms accepted, her result token is too long for a
  // URL, so Detour sends it back to /detour/callback as a form POST.
  { username: 'grace', user_id: 'oidc|grace', email: 'grace@yourcompany.com', given_name: 'Grace', family_name: 'Hopper', roles: manyRoles(), app_metadata: {} },
  // Denied (and signed out) by examples/demo/actions/deny-blocked.js.
  { username: 'mallory', user_id: 'oidc|mallory', email: 'mallory@yourcompany.com', given_name: 'Mallory', family_name: 'Moriarty', roles: ['viewer'], app_metadata: { blocked: true } },
];

/** 36 roles: six projects, six permissions each. */
function manyRoles() {
  const projects = ['apollo', 'gemini', 'mercury', 'skylab', 'voyager', 'pioneer'];
  const permissions = ['read', 'write', 'deploy', 'review', 'release', 'administer'];
  return projects.flatMap((project) => permissions.map((permission) => `project-${project}:${permission}`));
}

const users = new Map(people.map((p) => [p.user_id, {
  ...p,
  name: `${p.given_name} ${p.family_name}`,
  user_metadata: {},
  created_at: '2024-02-01T10:00:00.000Z',
  updated_at: '2025-06-01T08:30:00.000Z',
  logins_count: 0,
  last_login_at: undefined,
}]));

/** Everyone, for the login page. */
export const all = () => [...users.values()];

/** The user with this `user_id` (the OIDC `sub`). */
export const byId = (id) => users.get(id);

/** The user these credentials belong to, counting the login; else undefined. */
export function authenticate(username, password) {
  const user = all().find((u) => u.username === username);
  if (!user || password !== PASSWORD) return undefined;
  user.logins_count += 1;
  user.last_login_at = new Date().toISOString();
  return user;
}

/**
 * Writes an outcome's `user` changes: per top-level key of app_metadata and
 * user_metadata, `null` deletes the key (docs/protocol.md, Outcomes).
 */
export function applyMetadata(user, changes) {
  for (const field of ['app_metadata', 'user_metadata']) {
    for (const [key, value] of Object.entries(changes?.[field] ?? {})) {
      if (value === null) delete user[field][key];
      // defineProperty: a key named __proto__ stays a key.
      else Object.defineProperty(user[field], key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  if (changes) user.updated_at = new Date().toISOString();
}
