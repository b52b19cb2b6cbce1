//! Per-test databases cloned from a template that is migrated and seeded once per
//! test run (keyed by a hash of the migrations and seed data, so a schema change
//! builds a new template). Each test's database is dropped when the test ends.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use url::Url;

pub fn server_url() -> String {
    std::env::var("RIGMARKET_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn database_url(name: &str) -> String {
    let mut url = Url::parse(&server_url()).expect("RIGMARKET_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

fn hash_dir(dir: &Path, hasher: &mut DefaultHasher) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("readable dir").flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        path.file_name().hash(hasher);
        if path.is_dir() {
            hash_dir(&path, hasher);
        } else {
            std::fs::read(&path).expect("readable file").hash(hasher);
        }
    }
}

fn template_name() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut hasher = DefaultHasher::new();
    hash_dir(&root.join("migrations"), &mut hasher);
    hash_dir(&root.join("data"), &mut hasher);
    format!("rigmarket_tpl_{:016x}", hasher.finish())
}

async fn admin_connection() -> AsyncPgConnection {
    AsyncPgConnection::establish(&server_url())
        .await
        .expect("PostgreSQL must be running for the tests (see README: Testing)")
}

async fn database_exists(conn: &mut AsyncPgConnection, name: &str) -> bool {
    use diesel::sql_types::Text;
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        #[allow(dead_code)]
        one: i32,
    }
    diesel::sql_query("SELECT 1 AS one FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .load::<Found>(conn)
        .await
        .expect("query pg_database")
        .len()
        == 1
}

/// Creates the template if this run is the first to need it. Concurrent test
/// processes serialise on an advisory lock; the template is built under a
/// temporary name and renamed, so no test ever clones a half-built one.
async fn ensure_template() -> String {
    let name = template_name();
    let mut conn = admin_connection().await;
    if database_exists(&mut conn, &name).await {
        return name;
    }
    diesel::sql_query("SELECT pg_advisory_lock(7269676)").execute(&mut conn).await.unwrap();
    if !database_exists(&mut conn, &name).await {
        let building = format!("{name}_building");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)")).execute(&mut conn).await.unwrap();
        diesel::sql_query(format!("CREATE DATABASE {building}")).execute(&mut conn).await.unwrap();
        let mut config = super::base_config(&database_url(&building));
        config.db_pool_size = 2;
        rigmarket::prepare_database(&config).await.expect("migrate and seed the template");
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}")).execute(&mut conn).await.unwrap();
    }
    diesel::sql_query("SELECT pg_advisory_unlock(7269676)").execute(&mut conn).await.unwrap();
    name
}

/// A fresh, migrated and seeded database for one test.
pub async fn create_test_database() -> String {
    let template = ensure_template().await;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = admin_connection().await;
    diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .execute(&mut conn)
        .await
        .expect("clone the template database");
    name
}

/// Drops a test database; runs on its own thread because it is called from Drop.
pub fn drop_database(name: String) {
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            if let Ok(mut conn) = AsyncPgConnection::establish(&server_url()).await {
                let _ =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
            }
        });
    })
    .join();
}

/// Drops the database when the test ends, pass or fail.
pub struct DatabaseGuard(pub String);

impl Drop for DatabaseGuard {
    fn drop(&mut self) {
        drop_database(self.0.clone());
    }
}
