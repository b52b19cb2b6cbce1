//! The migrations embedded in this binary, and the schema's state against
//! them as `/health/ready` reports it: how many are applied, the latest, and
//! which of ours the database lacks.

use diesel::migration::MigrationSource;
use diesel::sql_types::Text;
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    /// Versions recorded in the database (by any build, this one or a newer one).
    pub applied: Vec<String>,
    /// Versions embedded in this binary.
    pub embedded: Vec<String>,
}

impl MigrationState {
    /// The newest applied version.
    pub fn latest(&self) -> Option<&str> {
        self.applied.last().map(String::as_str)
    }

    /// Embedded migrations the database has not run: this build expects a
    /// schema the database does not have yet.
    pub fn pending(&self) -> Vec<String> {
        self.embedded.iter().filter(|version| !self.applied.contains(version)).cloned().collect()
    }
}

#[derive(QueryableByName)]
struct AppliedVersion {
    #[diesel(sql_type = Text)]
    version: String,
}

/// Reads diesel's bookkeeping table (`run_migrations` fills it).
pub async fn migration_state(conn: &mut AsyncPgConnection) -> diesel::QueryResult<MigrationState> {
    let applied = diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
        .load::<AppliedVersion>(conn)
        .await?
        .into_iter()
        .map(|row| row.version)
        .collect();
    Ok(MigrationState { applied, embedded: embedded_versions() })
}

/// The versions compiled into this binary, oldest first, in the form the
/// bookkeeping table stores them (`20261123000001`).
pub fn embedded_versions() -> Vec<String> {
    let migrations = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS).expect("embedded migrations are valid");
    let mut versions: Vec<String> = migrations.iter().map(|m| m.name().version().to_string()).collect();
    versions.sort();
    versions
}
