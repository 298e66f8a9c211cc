//! `steward serve` as a client meets it: the envelope and request ids,
//! registration and login, login tokens and what is done to forge them,
//! API keys and roles. Every test runs the real binary over real HTTP, on
//! SQLite and (ignored unless a server is there) PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod serving;

use serde_json::{Value, json};
use serving::{Answer, Database, SECRET, Server, b64url, id};

fn now() -> i64 {
    std::time::UNIX_EPOCH.elapsed().unwrap().as_secs() as i64
}

fn forge(secret: &str, claims: Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).unwrap();
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &key).unwrap()
}

fn assert_envelope(answer: &Answer) {
    let keys: Vec<&String> = answer.body.as_object().expect("an object").keys().collect();
    assert_eq!(keys, ["data", "error", "request_id", "success", "timestamp"], "{}", answer.raw);
    let id = answer.body["request_id"].as_str().unwrap();
    assert_eq!(answer.headers["x-request-id"].to_str().unwrap(), id);
    let at = answer.body["timestamp"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok() && at.ends_with('Z'), "{at}");
}

async fn envelope_and_request_ids(db: Database) {
    let server = Server::with_secret(&db);
    let api = server.api();
    let health = api.get("/health").await.expect(200);
    assert_envelope(&health);
    assert_eq!(health.body["success"], true);
    assert!(health.body["error"].is_null());
    assert_eq!(health.data()["status"], "ok");
    api.get("/ready").await.expect(200);

    let mine = api.send(api.request(reqwest::Method::GET, "/health").header("X-Request-Id", "trace-me-42")).await;
    assert_eq!(mine.body["request_id"], "trace-me-42");
    assert_eq!(mine.headers["x-request-id"], "trace-me-42");
    let other = api.get("/health").await;
    assert_ne!(other.body["request_id"], health.body["request_id"], "each request gets its own id");

    let missing = api.get("/api/v1/no-such-thing").await.expect_error(404, "NOT_FOUND");
    assert_envelope(&missing);
    api.call("PATCH", "/api/v1/thoughts", None).await.expect_error(405, "METHOD_NOT_ALLOWED");
    assert_envelope(&api.get("/api/v1/tasks").await.expect_error(401, "UNAUTHORIZED"));
}

async fn register_login_and_me(db: Database) {
    let server = Server::with_secret(&db);
    let api = server.api();
    let first = api
        .post("/api/v1/auth/register", json!({"email": "Ann@Example.com", "name": "Ann", "password": "password-123"}))
        .await
        .expect(201);
    assert_eq!(first.data()["role"], "admin", "the first user of an empty database is admin");
    assert_eq!(first.data()["email"], "ann@example.com");
    assert!(first.data().get("password_hash").is_none() && !first.raw.contains("argon2"));
    let second = api
        .post("/api/v1/auth/register", json!({"email": "bob@example.com", "name": "Bob", "password": "password-123"}))
        .await
        .expect(201);
    assert_eq!(second.data()["role"], "user");
    api.post("/api/v1/auth/register", json!({"email": "bob@example.com", "name": "B", "password": "password-123"}))
        .await
        .expect_error(409, "CONFLICT");
    let short = api
        .post("/api/v1/auth/register", json!({"email": "c@example.com", "name": "C", "password": "short"}))
        .await
        .expect_error(422, "INVALID_CONTENT");
    assert_eq!(short.loc(), json!(["body", "password"]));

    let login = api
        .post("/api/v1/auth/login", json!({"email": "ann@example.com", "password": "password-123"}))
        .await
        .expect(200);
    assert_eq!(login.data()["token_type"], "bearer");
    assert_eq!(login.data()["expires_in"], 7 * 24 * 3600);
    let token = login.data()["access_token"].as_str().unwrap();
    let wrong = api
        .post("/api/v1/auth/login", json!({"email": "ann@example.com", "password": "password-124"}))
        .await
        .expect_error(401, "UNAUTHORIZED");
    let unknown = api
        .post("/api/v1/auth/login", json!({"email": "nobody@example.com", "password": "password-123"}))
        .await
        .expect_error(401, "UNAUTHORIZED");
    assert_eq!(wrong.body["error"]["message"], unknown.body["error"]["message"]);

    let me = api.with_token(token).get("/api/v1/auth/me").await.expect(200);
    assert_eq!(me.data()["id"], first.data()["id"]);
    // The scheme is case-insensitive.
    let lower = api
        .send(api.request(reqwest::Method::GET, "/api/v1/auth/me").header("authorization", format!("bEaReR {token}")))
        .await;
    lower.expect(200);
    let basic = api
        .send(api.request(reqwest::Method::GET, "/api/v1/auth/me").header("authorization", format!("Basic {token}")))
        .await;
    basic.expect_error(401, "UNAUTHORIZED");

    let closed = Server::start(&db, &["--jwt-secret", SECRET, "--no-registration"]);
    closed
        .api()
        .post("/api/v1/auth/register", json!({"email": "d@example.com", "name": "D", "password": "password-123"}))
        .await
        .expect_error(403, "FORBIDDEN");
    // Tokens signed with the same secret work on the other server.
    closed.api().with_token(token).get("/api/v1/auth/me").await.expect(200);
}

async fn forged_and_stale_tokens_are_unauthorized(db: Database) {
    let server = Server::with_secret(&db);
    let api = server.api();
    let ann = api.user("ann@example.com").await;
    let me = ann.get("/api/v1/auth/me").await.expect(200);
    let sub = me.data()["id"].as_str().unwrap().to_string();
    let valid = json!({"sub": sub, "iat": now(), "exp": now() + 600, "iss": "steward"});
    ann.with_token(&forge(SECRET, valid.clone())).get("/api/v1/auth/me").await.expect(200);

    let header_none = b64url(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64url(valid.to_string().as_bytes());
    let real = forge(SECRET, valid.clone());
    let signature = real.rsplit('.').next().unwrap();
    let mut claims_of_other = valid.clone();
    claims_of_other["sub"] = json!(uuid::Uuid::new_v4().to_string());
    let tampered_payload = b64url(claims_of_other.to_string().as_bytes());
    let real_header = real.split('.').next().unwrap();
    let attacks = [
        ("alg none", format!("{header_none}.{payload}.")),
        ("wrong key", forge("another-secret-another-secret-another-secret", valid.clone())),
        ("expired", forge(SECRET, json!({"sub": sub, "iat": now() - 7200, "exp": now() - 3600, "iss": "steward"}))),
        ("no expiry", forge(SECRET, json!({"sub": sub, "iat": now(), "iss": "steward"}))),
        ("other issuer", forge(SECRET, json!({"sub": sub, "iat": now(), "exp": now() + 600, "iss": "evil"}))),
        (
            "issued in the future",
            forge(SECRET, json!({"sub": sub, "iat": now() + 3600, "exp": now() + 7200, "iss": "steward"})),
        ),
        ("tampered payload", format!("{real_header}.{tampered_payload}.{signature}")),
        (
            "deleted user",
            forge(
                SECRET,
                json!({"sub": uuid::Uuid::new_v4().to_string(), "iat": now(), "exp": now() + 600, "iss": "steward"}),
            ),
        ),
        ("garbage", "not-a-token".to_string()),
        ("unknown key", "stw_0000000000000000000000000000000000000000".to_string()),
    ];
    for (what, token) in attacks {
        let answer = api.with_token(&token).get("/api/v1/auth/me").await;
        assert_eq!((answer.status, answer.code()), (401, "UNAUTHORIZED"), "{what}: {}", answer.raw);
    }
    assert!(!server.log_text().contains(&real), "a token reached the log");
}

async fn tokens_survive_a_restart_without_a_configured_secret(db: Database) {
    let token = {
        let server = Server::start(&db, &[]);
        let ann = server.api().user("ann@example.com").await;
        ann.get("/api/v1/auth/me").await.expect(200);
        ann.token.clone().unwrap()
    };
    let first = Server::start(&db, &[]);
    let second = Server::start(&db, &[]);
    for server in [&first, &second] {
        server.api().with_token(&token).get("/api/v1/auth/me").await.expect(200);
    }
    // A server with another secret does not accept it.
    let other = Server::start(&db, &["--jwt-secret", SECRET]);
    other.api().with_token(&token).get("/api/v1/auth/me").await.expect_error(401, "UNAUTHORIZED");
}

async fn api_keys_authenticate_until_revoked(db: Database) {
    let server = Server::with_secret(&db);
    let admin = server.api().user("admin@example.com").await;
    let made = admin.post("/api/v1/api-keys", json!({"name": "laptop"})).await.expect(201);
    let key = made.data()["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("stw_"));
    assert_eq!(made.data()["role"], "admin");
    let listed = admin.get("/api/v1/api-keys").await.expect(200);
    assert_eq!(listed.data()["count"], 1);
    assert!(!listed.raw.contains(&key), "the secret is shown only at creation");
    assert!(listed.data()["api_keys"][0].get("key_hash").is_none());

    let by_key = admin.with_token(&key);
    by_key.get("/api/v1/auth/me").await.expect(200);
    by_key.post("/api/v1/tasks", json!({"title": "from a script"})).await.expect(201);
    admin.delete(&format!("/api/v1/api-keys/{}", id(&made))).await.expect(204);
    by_key.get("/api/v1/auth/me").await.expect_error(401, "UNAUTHORIZED");
    admin.delete(&format!("/api/v1/api-keys/{}", uuid::Uuid::new_v4())).await.expect_error(404, "API_KEY_NOT_FOUND");
    admin.delete("/api/v1/api-keys/not-a-uuid").await.expect_error(422, "INVALID_CONTENT");
    assert!(!server.log_text().contains(&key), "a key reached the log");
}

async fn roles_are_enforced_by_the_engine(db: Database) {
    let server = Server::with_secret(&db);
    let admin = server.api().user("admin@example.com").await;
    let task = admin.post("/api/v1/tasks", json!({"title": "mine"})).await.expect(201);
    let observer = admin.post("/api/v1/api-keys", json!({"name": "viewer", "role": "observer"})).await.expect(201);
    let observer = admin.with_token(observer.data()["key"].as_str().unwrap());
    observer.get(&format!("/api/v1/tasks/{}", id(&task))).await.expect(200);
    observer.get("/api/v1/tasks").await.expect(200);
    observer.post("/api/v1/tasks", json!({"title": "nope"})).await.expect_error(403, "FORBIDDEN");
    observer
        .put(&format!("/api/v1/tasks/{}", id(&task)), json!({"title": "nope"}))
        .await
        .expect_error(403, "FORBIDDEN");
    observer.delete(&format!("/api/v1/tasks/{}", id(&task))).await.expect_error(403, "FORBIDDEN");
    observer.post("/api/v1/thoughts", json!({"content": "nope"})).await.expect_error(403, "FORBIDDEN");
    observer.put("/api/v1/settings", json!({"timezone": "Europe/Paris"})).await.expect_error(403, "FORBIDDEN");
    observer.post("/api/v1/api-keys", json!({"name": "more"})).await.expect_error(403, "FORBIDDEN");

    let service = admin.post("/api/v1/api-keys", json!({"name": "svc", "role": "api"})).await.expect(201);
    let service = admin.with_token(service.data()["key"].as_str().unwrap());
    service.post("/api/v1/tasks", json!({"title": "from a service"})).await.expect(201);
    service.get("/api/v1/api-keys").await.expect_error(403, "FORBIDDEN");

    let user = server.api().user("user@example.com").await;
    user.post("/api/v1/api-keys", json!({"name": "up", "role": "admin"})).await.expect_error(403, "FORBIDDEN");
    let bad_role = user.post("/api/v1/api-keys", json!({"name": "x", "role": "system"})).await;
    assert_eq!(bad_role.expect_error(422, "INVALID_CONTENT").loc(), json!(["body", "role"]));
}

on_every_store!(
    envelope_and_request_ids,
    register_login_and_me,
    forged_and_stale_tokens_are_unauthorized,
    tokens_survive_a_restart_without_a_configured_secret,
    api_keys_authenticate_until_revoked,
    roles_are_enforced_by_the_engine,
);
