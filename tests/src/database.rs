//! A fresh database for each test: a SQLite file in the test's temporary
//! folder, or — when `COSX_TEST_DATABASE_URL` names a PostgreSQL server — a
//! new database on that server, created for the test and dropped when the
//! test is over, so tests run in parallel and leave nothing behind.
//!
//! A database rather than a schema per test, because LISTEN/NOTIFY channels
//! are per database: coordinators of parallel tests sharing one would wake
//! each other.

use std::io::Write;
use std::path::Path;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;

/// The environment variable naming the PostgreSQL server tests may use, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres` (a database to connect to
/// while creating and dropping the test databases).
pub const DATABASE_URL_VAR: &str = "COSX_TEST_DATABASE_URL";

/// The PostgreSQL server URL tests may use, if `COSX_TEST_DATABASE_URL` is set.
///
/// When it is not, says so once per test binary on the real standard error
/// (not the captured one), so a run shows that PostgreSQL was skipped.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var(DATABASE_URL_VAR).ok().filter(|u| !u.trim().is_empty());
    if url.is_none() {
        static SAID: Once = Once::new();
        SAID.call_once(|| {
            let _ = writeln!(std::io::stderr(), "PostgreSQL skipped: {DATABASE_URL_VAR} not set");
        });
    }
    url
}

/// Which backend a test database is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A database on the PostgreSQL server of `COSX_TEST_DATABASE_URL`.
    Postgres,
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL a coordinator or store opens.
    pub url: String,
    /// Its backend.
    pub backend: Backend,
    /// For PostgreSQL: the server URL and the database to drop at the end.
    drop_on_server: Option<(String, String)>,
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!(
        "cosx_test_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `server_url` with its database name replaced by `name` (query kept).
fn with_database(server_url: &str, name: &str) -> anyhow::Result<String> {
    let (scheme, rest) = server_url
        .split_once("://")
        .ok_or_else(|| anyhow::anyhow!("{DATABASE_URL_VAR}: expected postgres://USER@HOST:PORT/DB"))?;
    let (authority_and_path, query) = rest.split_once('?').map_or((rest, None), |(a, q)| (a, Some(q)));
    let authority = authority_and_path.split_once('/').map_or(authority_and_path, |(a, _)| a);
    Ok(match query {
        Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
        None => format!("{scheme}://{authority}/{name}"),
    })
}

impl TestDatabase {
    /// An SQLite database `coordinator.db` in `dir`.
    pub fn sqlite_in(dir: &Path) -> Self {
        TestDatabase {
            url: format!("sqlite://{}", dir.join("coordinator.db").display()),
            backend: Backend::Sqlite,
            drop_on_server: None,
        }
    }

    /// A new, empty database on the PostgreSQL server at `server_url`.
    pub async fn postgres(server_url: &str) -> anyhow::Result<Self> {
        let name = unique_name();
        let mut admin = sqlx::PgConnection::connect(server_url)
            .await
            .map_err(|e| anyhow::anyhow!("{DATABASE_URL_VAR}: cannot connect: {e}"))?;
        sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).await?;
        admin.close().await?;
        Ok(TestDatabase {
            url: with_database(server_url, &name)?,
            backend: Backend::Postgres,
            drop_on_server: Some((server_url.to_owned(), name)),
        })
    }

    /// On PostgreSQL if `COSX_TEST_DATABASE_URL` is set, otherwise SQLite in `dir`.
    pub async fn from_env(dir: &Path) -> anyhow::Result<Self> {
        match postgres_url() {
            Some(server) => Self::postgres(&server).await,
            None => Ok(Self::sqlite_in(dir)),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server, name)) = self.drop_on_server.take() else {
            return;
        };
        // Drop is synchronous and may run inside the test's runtime: do the
        // async work on a thread of its own. FORCE ends the connections that
        // coordinators of the test may still hold.
        let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&server).await?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut admin).await?;
                admin.close().await?;
                Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            let _ = writeln!(std::io::stderr(), "warning: could not drop a test database: {dropped:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_the_rest_kept() -> anyhow::Result<()> {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1")?,
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgresql://u:p@h/db?sslmode=disable", "t2")?,
            "postgresql://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:5432", "t3")?, "postgres://h:5432/t3");
        Ok(())
    }
}
