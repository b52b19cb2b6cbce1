//! Zero-setup development database: when nothing answers at the default
//! `DATABASE_URL` and PostgreSQL server binaries are installed, `serve` starts a
//! private cluster under `./var/postgres` (trust auth, loopback only) and stops it
//! again on shutdown.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

pub const PRIVATE_PORT: u16 = 55432;

pub struct LocalCluster {
    pg_ctl: PathBuf,
    data_dir: PathBuf,
    as_postgres_user: bool,
}

fn find_binary(name: &str) -> Option<PathBuf> {
    let from_path = std::env::var_os("PATH").into_iter().flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let debian =
        std::fs::read_dir("/usr/lib/postgresql").into_iter().flatten().flatten().map(|entry| entry.path().join("bin"));
    from_path.chain(debian).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

impl LocalCluster {
    pub fn database_url() -> String {
        format!("postgres://postgres@127.0.0.1:{PRIVATE_PORT}/rigmarket")
    }

    /// Initialises (first time) and starts the cluster. `initdb` refuses to run as
    /// root, so under root the cluster belongs to the `postgres` system user.
    pub fn start(var_dir: &Path) -> anyhow::Result<Self> {
        let initdb = find_binary("initdb").context("PostgreSQL server binaries (initdb) are not installed")?;
        let pg_ctl = find_binary("pg_ctl").context("pg_ctl is not installed")?;
        let data_dir = std::path::absolute(var_dir.join("postgres"))?;
        let cluster = Self { pg_ctl, as_postgres_user: is_root(), data_dir };
        if !cluster.data_dir.join("PG_VERSION").exists() {
            std::fs::create_dir_all(&cluster.data_dir)?;
            if cluster.as_postgres_user {
                cluster.run(Command::new("chown").arg("-R").arg("postgres").arg(&cluster.data_dir))?;
            }
            let mut init = cluster.command(&initdb);
            init.arg("-D").arg(&cluster.data_dir).args(["-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
            cluster.run(&mut init).context("initdb failed")?;
        }
        let mut start = cluster.command(&cluster.pg_ctl);
        start
            .arg("-D")
            .arg(&cluster.data_dir)
            .arg("-l")
            .arg(cluster.data_dir.join("server.log"))
            .arg("-w")
            .arg("-o")
            .arg(format!("-c listen_addresses=127.0.0.1 -p {PRIVATE_PORT} -k {}", cluster.data_dir.display()))
            .arg("start");
        cluster.run(&mut start).context("pg_ctl start failed (see var/postgres/server.log)")?;
        Ok(cluster)
    }

    fn command(&self, binary: &Path) -> Command {
        if self.as_postgres_user {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(binary);
            cmd
        } else {
            Command::new(binary)
        }
    }

    fn run(&self, cmd: &mut Command) -> anyhow::Result<()> {
        let output = cmd.output().with_context(|| format!("running {cmd:?}"))?;
        anyhow::ensure!(
            output.status.success(),
            "{cmd:?} exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
        Ok(())
    }

    pub fn stop(&self) {
        let mut stop = self.command(&self.pg_ctl);
        stop.arg("-D").arg(&self.data_dir).args(["-m", "fast", "stop"]);
        if let Err(err) = self.run(&mut stop) {
            tracing::warn!(error = %err, "could not stop the private PostgreSQL cluster");
        }
    }
}
