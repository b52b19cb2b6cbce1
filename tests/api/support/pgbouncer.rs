//! A real PgBouncer (Debian's package) in transaction pooling mode in front of
//! the test PostgreSQL, one per test app, stopped when the app is dropped.
//!
//! `RIGMARKET_TEST_PGBOUNCER=transaction` makes every [`TestApp`](super::TestApp)
//! connect through one (the `pgbouncer` nextest profile runs the orders,
//! accounts and listings modules that way); the harness's own set-up (the
//! template, per-test databases, the stray-jobs check) stays direct, as the
//! service's migrations do (`RIGMARKET_MIGRATION_DATABASE_URL`).

use std::path::PathBuf;
use std::time::Duration;

use super::postgres_processes::{as_postgres, clusters_dir, free_port, owned_dir, run};

pub fn wanted() -> bool {
    std::env::var("RIGMARKET_TEST_PGBOUNCER").is_ok_and(|mode| mode == "transaction")
}

pub struct PgBouncer {
    pub port: u16,
    dir: PathBuf,
}

impl PgBouncer {
    /// Starts one that forwards every database to PostgreSQL at `upstream_port`.
    pub async fn start(upstream_port: u16) -> Self {
        let dir = clusters_dir().join(format!("pgbouncer-{}", uuid::Uuid::new_v4().simple()));
        owned_dir(&dir);
        let port = free_port();
        let config = format!(
            "[databases]\n\
             * = host=127.0.0.1 port={upstream_port} user=postgres\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = any\n\
             pool_mode = transaction\n\
             max_client_conn = 200\n\
             default_pool_size = 8\n\
             ignore_startup_parameters = extra_float_digits\n\
             server_reset_query =\n\
             logfile = {dir}/pgbouncer.log\n\
             pidfile = {dir}/pgbouncer.pid\n",
            dir = dir.display()
        );
        std::fs::write(dir.join("pgbouncer.ini"), config).unwrap();
        owned_dir(&dir);
        let pgbouncer = PathBuf::from("/usr/sbin/pgbouncer");
        let binary = if pgbouncer.is_file() { pgbouncer } else { PathBuf::from("pgbouncer") };
        run(as_postgres(&binary).arg("-d").arg(dir.join("pgbouncer.ini")));
        // -d returns once the daemon forked; wait until it accepts.
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Self { port, dir };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("pgbouncer did not start; see {}", dir.join("pgbouncer.log").display());
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // SIGTERM: immediate shutdown.
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("pgbouncer.pid")) {
            let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.trim()).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
