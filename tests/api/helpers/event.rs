//! The Auth0-shaped post-login events the tests send.

use serde_json::{Value, json};

/// The user of `login_event()`.
pub const USER_ID: &str = "auth0|5f7c8ec7c33c6c004bbafe82";
pub const USER_EMAIL: &str = "jane.doe@corp.test";
/// The request of `login_event()`.
pub const REQUEST_HOSTNAME: &str = "login.corp.test";
pub const REQUEST_IP: &str = "203.0.113.7";

/// A post-login event for an interactive login, as an Auth0 tenant would
/// send it: a database user with empty metadata, an OIDC authorization-code
/// transaction and two roles.
pub fn login_event() -> Value {
    json!({
        "user": {
            "user_id": USER_ID,
            "email": USER_EMAIL,
            "email_verified": true,
            "name": "Jane Doe",
            "nickname": "jane",
            "created_at": "2024-02-01T10:00:00.000Z",
            "updated_at": "2025-11-20T08:30:00.000Z",
            "app_metadata": {},
            "user_metadata": {},
            "identities": [
                { "connection": "Username-Password-Authentication", "provider": "auth0",
                  "user_id": "5f7c8ec7c33c6c004bbafe82", "isSocial": false }
            ]
        },
        "client": { "client_id": "k2zvSTmVQoXo1YlOs3VdYVyq", "name": "Corp Portal", "metadata": {} },
        "connection": { "id": "con_fpe5kj482KO1eOzQ", "name": "Username-Password-Authentication",
                        "strategy": "auth0" },
        "request": {
            "ip": REQUEST_IP,
            "method": "GET",
            "hostname": REQUEST_HOSTNAME,
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) DetourTest/1.0",
            "language": "en",
            "query": { "response_type": "code", "scope": "openid profile email" },
            "body": {},
            "geoip": { "countryCode": "NZ", "continentCode": "OC", "cityName": "Wellington" }
        },
        "transaction": {
            "id": "e6b5a0b9-2d8b-4c37-9d62-7c2f6b3f0e11",
            "protocol": "oidc-basic-profile",
            "requested_scopes": ["openid", "profile", "email"],
            "redirect_uri": "https://portal.corp.test/callback",
            "metadata": {}
        },
        "authorization": { "roles": ["admin", "editor"] },
        "authentication": { "methods": [ { "name": "pwd", "timestamp": "2025-11-23T09:59:58.000Z" } ] },
        "tenant": { "id": "corp" },
        "stats": { "logins_count": 7 },
        "secrets": {},
        "configuration": {}
    })
}
