//! A private PostgreSQL primary with a real streaming replica, for the read
//! routing tests: `initdb` (its default pg_hba trusts local replication
//! connections, which the shared test server does not), a migrated and seeded
//! database, then `pg_basebackup -R` of the primary into a second data
//! directory started on another port. Both are stopped (immediate mode) and
//! deleted when the value is dropped; `.ci/run` stops any a killed test left.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::postgres_processes::{as_postgres, clusters_dir, free_port, owned_dir, pg_binary, run};

pub const DATABASE: &str = "rigmarket";

pub struct ReplicatedCluster {
    pub primary_port: u16,
    pub replica_port: u16,
    dir: PathBuf,
    replica_running: AtomicBool,
}

impl ReplicatedCluster {
    pub async fn start() -> Self {
        let dir = clusters_dir().join(format!("replicated-{}", uuid::Uuid::new_v4().simple()));
        owned_dir(&dir);
        let (primary_port, replica_port) = (free_port(), free_port());
        let primary = dir.join("primary");
        run(as_postgres(&pg_binary("initdb")).arg("-D").arg(&primary).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        ]));
        let cluster = Self { primary_port, replica_port, dir, replica_running: AtomicBool::new(false) };
        cluster.pg_ctl_start("primary", primary_port);
        let primary_url = cluster.primary_url();
        let mut config = super::base_config(&primary_url);
        config.db_pool_size = 2;
        rigmarket::prepare_database(&config).await.expect("migrate and seed the private primary");
        run(as_postgres(&pg_binary("pg_basebackup"))
            .args(["-h", "127.0.0.1", "-p", &primary_port.to_string(), "-U", "postgres"])
            .arg("-D")
            .arg(cluster.dir.join("replica"))
            .args(["-R", "-X", "stream", "-c", "fast", "--no-sync"]));
        cluster.start_replica();
        cluster
    }

    fn pg_ctl_start(&self, name: &str, port: u16) {
        let data = self.dir.join(name);
        run(as_postgres(&pg_binary("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(self.dir.join(format!("{name}.log")))
            .arg("-w")
            .arg("-o")
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=60 \
                 -c wal_receiver_status_interval=1s -c hot_standby_feedback=on",
                self.dir.display()
            ))
            .arg("start"));
    }

    fn pg_ctl_stop(&self, name: &str) {
        let mut stop = as_postgres(&pg_binary("pg_ctl"));
        stop.arg("-D").arg(self.dir.join(name)).args(["-m", "immediate", "-w", "stop"]);
        let _ = stop.output();
    }

    pub fn primary_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{DATABASE}", self.primary_port)
    }

    pub fn replica_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{DATABASE}", self.replica_port)
    }

    /// Stops the replica as a crash would.
    pub fn stop_replica(&self) {
        self.pg_ctl_stop("replica");
        AtomicBool::store(&self.replica_running, false, Ordering::SeqCst);
    }

    /// Starts the replica (again); it reconnects and catches up by itself.
    pub fn start_replica(&self) {
        self.pg_ctl_start("replica", self.replica_port);
        AtomicBool::store(&self.replica_running, true, Ordering::SeqCst);
    }

    async fn replica(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.replica_url()).await.expect("connect to the replica")
    }

    /// `pg_wal_replay_pause()`: the replica keeps receiving WAL but shows
    /// nothing newer until [`resume_replay`](Self::resume_replay).
    pub async fn pause_replay(&self) {
        let mut conn = self.replica().await;
        diesel::sql_query("SELECT pg_wal_replay_pause()").execute(&mut conn).await.unwrap();
    }

    pub async fn resume_replay(&self) {
        let mut conn = self.replica().await;
        diesel::sql_query("SELECT pg_wal_replay_resume()").execute(&mut conn).await.unwrap();
    }

    /// Waits until the replica has replayed everything the primary has written
    /// so far (polling; no timing is asserted).
    pub async fn wait_for_replay(&self) {
        #[derive(diesel::QueryableByName)]
        struct Caught {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            caught: bool,
        }
        let mut primary = AsyncPgConnection::establish(&self.primary_url()).await.unwrap();
        #[derive(diesel::QueryableByName)]
        struct Lsn {
            #[diesel(sql_type = diesel::sql_types::Text)]
            lsn: String,
        }
        let lsn: Lsn =
            diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn").get_result(&mut primary).await.unwrap();
        for _ in 0..600 {
            if let Ok(mut replica) = AsyncPgConnection::establish(&self.replica_url()).await {
                let caught: Result<Caught, _> =
                    diesel::sql_query("SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS caught")
                        .bind::<diesel::sql_types::Text, _>(&lsn.lsn)
                        .get_result(&mut replica)
                        .await;
                if caught.is_ok_and(|c| c.caught) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the replica did not catch up with {}", lsn.lsn);
    }
}

impl Drop for ReplicatedCluster {
    fn drop(&mut self) {
        if AtomicBool::load(&self.replica_running, Ordering::SeqCst) {
            self.pg_ctl_stop("replica");
        }
        self.pg_ctl_stop("primary");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
