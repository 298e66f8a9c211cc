//! What the HTTP tests share: the real `steward serve` binary started on a
//! free loopback port over a fresh database (a SQLite file in a temporary
//! directory, or a PostgreSQL database of its own), and a small JSON client.

#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde_json::Value;

/// The secret tests start servers with, so they can forge tokens.
pub(crate) const SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Where a test's data lives; dropped (and a PostgreSQL database dropped
/// with it) when the test ends.
pub(crate) enum Database {
    Sqlite { dir: tempfile::TempDir, url: String },
    Postgres { name: String, url: String },
}

fn postgres_server() -> String {
    std::env::var("STEWARD_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn psql(sql: &str) -> std::process::Output {
    Command::new("psql").arg(postgres_server()).args(["-Atqc", sql]).output().expect("psql must be installed")
}

impl Database {
    pub(crate) fn sqlite() -> Database {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("serve.db").display());
        Database::Sqlite { dir, url }
    }

    pub(crate) fn postgres() -> Database {
        // The clock alone is not unique between tests running at once in
        // one process (a CI run met two with the same name): a counter is.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos();
        let name = format!("steward_serve_{}_{nanos}_{n}", std::process::id());
        let made = psql(&format!("CREATE DATABASE {name}"));
        assert!(
            made.status.success(),
            "PostgreSQL at {} is not usable ({}): start it or set STEWARD_TEST_POSTGRES_URL",
            postgres_server(),
            String::from_utf8_lossy(&made.stderr)
        );
        let base = postgres_server();
        let root = base.rsplit_once('/').map(|(root, _)| root.to_string()).unwrap_or(base);
        Database::Postgres { url: format!("{root}/{name}"), name }
    }

    pub(crate) fn url(&self) -> &str {
        match self {
            Database::Sqlite { url, .. } | Database::Postgres { url, .. } => url,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Database::Postgres { name, .. } = self {
            psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A running `steward serve`; killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    /// Everything it wrote on stderr so far.
    pub(crate) log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the server over `db` with `args` after `serve`, and waits
    /// until it says where it listens.
    pub(crate) fn start(db: &Database, args: &[&str]) -> Server {
        Server::start_with_env(db, &[], args)
    }

    /// [`Server::start`] with more environment (which wins over the defaults here).
    pub(crate) fn start_with_env(db: &Database, env: &[(&str, &str)], args: &[&str]) -> Server {
        Server::start_at(db.url(), env, args)
    }

    /// [`Server::start_with_env`] over the database at `url` (the URL of a
    /// [`Database`] with, say, a password added).
    pub(crate) fn start_at(url: &str, env: &[(&str, &str)], args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
            .env_remove("STEWARD_DATABASE_URL")
            .env_remove("STEWARD_CONFIG")
            .env_remove("STEWARD_USER")
            .env_remove("STEWARD_JWT_SECRET")
            .env_remove("STEWARD_WEBHOOK_ALLOW_PRIVATE")
            .env("STEWARD_LOG", "warn,steward=info")
            // Tests make many requests quickly; the one about limits sets its own.
            .env("STEWARD_RATE_LIMIT", "0")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .args(["--database-url", url, "serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start steward serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (found, address) = mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.strip_prefix("steward serve: listening on ") {
                    let _ = found.send(at.trim().to_string());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let Ok(base) = address.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            panic!("steward serve did not start:\n{}", log.lock().unwrap().join("\n"));
        };
        Server { child, base, log }
    }

    /// With the test secret, so tokens can be forged.
    /// A server with a known secret and no workers: the only writes are
    /// the test's requests (workers would analyse thoughts and work agent
    /// tasks meanwhile). Tests of the workers start their own.
    pub(crate) fn with_secret(db: &Database) -> Server {
        Server::start(db, &["--jwt-secret", SECRET, "--no-worker"])
    }

    pub(crate) fn api(&self) -> Api {
        Api { http: reqwest::Client::new(), base: self.base.clone(), token: None }
    }

    /// Sends SIGTERM.
    pub(crate) fn terminate(&self) {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("run kill");
        assert!(sent.success());
    }

    /// Waits for the process to end (at most `limit`).
    pub(crate) fn wait(&mut self, limit: Duration) -> ExitStatus {
        let until = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for steward serve") {
                return status;
            }
            assert!(std::time::Instant::now() < until, "steward serve did not stop within {limit:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer: status, headers and the JSON body (`Null` when empty).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
    pub(crate) raw: String,
}

impl Answer {
    pub(crate) fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub(crate) fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The first validation error's location.
    pub(crate) fn loc(&self) -> Value {
        self.body["error"]["details"]["validation_errors"][0]["loc"].clone()
    }

    /// Asserts the status (and shows the body when it differs).
    pub(crate) fn expect(self, status: u16) -> Answer {
        assert_eq!(self.status, status, "body: {}", self.raw);
        self
    }

    /// Asserts an error answer: status, code, and the envelope's shape.
    pub(crate) fn expect_error(self, status: u16, code: &str) -> Answer {
        assert_eq!((self.status, self.code()), (status, code), "body: {}", self.raw);
        assert_eq!(self.body["success"], false);
        assert!(self.body["data"].is_null());
        assert!(self.body["error"]["message"].is_string());
        assert!(self.body["error"]["details"].is_object());
        self
    }
}

/// A client of one server, with or without a bearer token.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: Option<String>,
}

impl Api {
    pub(crate) fn with_token(&self, token: &str) -> Api {
        Api { token: Some(token.to_string()), ..self.clone() }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, self.url(path));
        match &self.token {
            Some(token) => builder.header("Authorization", format!("Bearer {token}")),
            None => builder,
        }
    }

    /// The response as it comes (a stream, say), not read.
    pub(crate) async fn send_raw(&self, builder: reqwest::RequestBuilder) -> reqwest::Response {
        builder.send().await.expect("the server answers")
    }

    pub(crate) async fn send(&self, builder: reqwest::RequestBuilder) -> Answer {
        let response = builder.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response.text().await.expect("a body");
        let body = if raw.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&raw).unwrap_or_else(|e| panic!("not JSON ({e}): {raw}"))
        };
        Answer { status, headers, body, raw }
    }

    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut builder = self.request(method, path);
        if let Some(body) = body {
            builder = builder.header("content-type", "application/json").body(body.to_string());
        }
        self.send(builder).await
    }

    pub(crate) async fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None).await
    }
    pub(crate) async fn post(&self, path: &str, body: Value) -> Answer {
        self.call("POST", path, Some(body)).await
    }
    pub(crate) async fn put(&self, path: &str, body: Value) -> Answer {
        self.call("PUT", path, Some(body)).await
    }
    pub(crate) async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call("PATCH", path, Some(body)).await
    }
    pub(crate) async fn delete(&self, path: &str) -> Answer {
        self.call("DELETE", path, None).await
    }

    /// Registers a user and logs in; a client acting as them.
    pub(crate) async fn user(&self, email: &str) -> Api {
        let body = serde_json::json!({"email": email, "name": "Test", "password": "password-123"});
        self.post("/api/v1/auth/register", body).await.expect(201);
        let login =
            self.post("/api/v1/auth/login", serde_json::json!({"email": email, "password": "password-123"})).await;
        let login = login.expect(200);
        self.with_token(login.data()["access_token"].as_str().expect("a token"))
    }
}

/// The `id` of an answer's data.
pub(crate) fn id(answer: &Answer) -> String {
    answer.data()["id"].as_str().unwrap_or_else(|| panic!("no id in {}", answer.raw)).to_string()
}

/// Base64url without padding (JWT segments).
pub(crate) fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// One test body run against SQLite, and against PostgreSQL when a server
/// is there (`./scripts/test` runs the ignored ones).
#[macro_export]
macro_rules! on_every_store {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::serving::Database::sqlite()).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
                async fn $name() {
                    super::$name($crate::serving::Database::postgres()).await
                }
            )+
        }
    };
}

/// A live event stream (`GET /api/v1/events`) being read.
pub(crate) struct EventStream {
    body: futures::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    text: String,
    /// Whether the `: live` comment came.
    pub(crate) live: bool,
}

/// An SSE event: its id (`seq`), kind and data.
pub(crate) type SseEvent = (i64, String, Value);

impl EventStream {
    pub(crate) fn new(response: reqwest::Response) -> EventStream {
        use futures::StreamExt;
        assert_eq!(response.status(), 200);
        let body = response.bytes_stream().map(|chunk| chunk.map(|b| b.to_vec())).boxed();
        EventStream { body, text: String::new(), live: false }
    }

    /// Reads until `n` events came, or the `: live` comment when `n` is 0
    /// (at most 20 s: far longer than any wake-up takes, far shorter than
    /// the safety poll the wake-up tests set).
    pub(crate) async fn read(&mut self, n: usize) -> Vec<SseEvent> {
        use futures::StreamExt;
        let mut events = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            while let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let (mut id, mut kind, mut data) = (None, String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        kind = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    } else if line.strip_prefix(':').is_some_and(|c| c.trim() == "live") {
                        self.live = true;
                    }
                }
                if let Some(id) = id {
                    events.push((id, kind, serde_json::from_str(&data).unwrap()));
                }
            }
            if (n == 0 && self.live) || (n > 0 && events.len() >= n) {
                return events;
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .expect("events in time")
                .expect("open stream");
            self.text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
    }

    /// Reads until the stream says it has caught up: whatever comes next
    /// happened after it subscribed, and reaches it only by a wake-up (or
    /// the safety poll).
    pub(crate) async fn until_live(&mut self) {
        self.read(0).await;
    }
}
