//! A throwaway database per test on the server named by
//! `STEWARD_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! dropped when the guard is. A server that cannot be reached fails the
//! test loudly: these tests never skip themselves.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, unreachable_pub)]

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The administrative URL tests create their databases through.
pub fn server_url() -> String {
    std::env::var("STEWARD_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

async fn admin(url: &str) -> PgConnection {
    match PgConnection::connect(url).await {
        Ok(conn) => conn,
        Err(e) => panic!(
            "\n\n*** PostgreSQL is not reachable at {url}: {e}\n\
             *** The PostgreSQL store tests need a server. Start the local one with\n\
             ***     pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
             *** or point STEWARD_TEST_POSTGRES_URL at a server where this user may CREATE DATABASE.\n\n"
        ),
    }
}

/// A database that exists for as long as this guard does.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl TestDatabase {
    /// Creates `steward_test_<uuid>` on the test server.
    pub async fn create() -> TestDatabase {
        let admin_url = server_url();
        let mut conn = admin(&admin_url).await;
        let random: uuid::Uuid = sqlx::query_scalar("SELECT gen_random_uuid()").fetch_one(&mut conn).await.unwrap();
        let name = format!("steward_test_{}", random.simple());
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name} on {admin_url}: {e}"));
        conn.close().await.ok();
        let url = PgConnectOptions::from_str(&admin_url)
            .expect("STEWARD_TEST_POSTGRES_URL is not a PostgreSQL URL")
            .database(&name)
            .to_url_lossy()
            .to_string();
        TestDatabase { name, url, admin_url }
    }

    /// Creates `steward_test_<uuid>` as a copy of the database `template`
    /// (which nobody may be connected to), files copied as they are.
    pub async fn from_template(template: &str) -> TestDatabase {
        let admin_url = server_url();
        let mut conn = admin(&admin_url).await;
        let random: uuid::Uuid = sqlx::query_scalar("SELECT gen_random_uuid()").fetch_one(&mut conn).await.unwrap();
        let name = format!("steward_test_{}", random.simple());
        let sql = format!("CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot copy {template} to {name} on {admin_url}: {e}"));
        conn.close().await.ok();
        let url = database_url(&name);
        TestDatabase { name, url, admin_url }
    }

    /// The URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// The URL of the database `name` on the test server.
pub fn database_url(name: &str) -> String {
    PgConnectOptions::from_str(&server_url())
        .expect("STEWARD_TEST_POSTGRES_URL is not a PostgreSQL URL")
        .database(name)
        .to_url_lossy()
        .to_string()
}

/// Runs one administrative statement (`CREATE DATABASE …`) on the test server.
pub async fn admin_execute(sql: &str) {
    let mut conn = admin(&server_url()).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.ok();
}

/// Whether the database `name` exists on the test server.
pub async fn database_exists(name: &str) -> bool {
    let mut conn = admin(&server_url()).await;
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut conn)
        .await
        .unwrap();
    conn.close().await.ok();
    found.is_some()
}

impl Drop for TestDatabase {
    /// Drops the database, ending any connection still open to it. Runs on a
    /// thread of its own, as a drop may happen inside a runtime (or while a
    /// failed test unwinds) where blocking on async work is not allowed.
    fn drop(&mut self) {
        let (name, admin_url) = (self.name.clone(), self.admin_url.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut last = None;
                for _ in 0..5 {
                    let attempt = async {
                        let mut conn = PgConnection::connect(&admin_url).await?;
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
                        conn.close().await
                    };
                    match attempt.await {
                        Ok(()) => return Ok(()),
                        Err(e) => last = Some(e),
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(std::io::Error::other(format!("{last:?}")))
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop the test database {}: {dropped:?}", self.name);
        }
    }
}
