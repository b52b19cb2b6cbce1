//! Starting PostgreSQL's own programs for the harness (initdb, pg_ctl,
//! pg_basebackup, pgbouncer): as the `postgres` user when the tests run as
//! root (initdb and PgBouncer refuse root), in directories under
//! [`clusters_dir`] so `.ci/run` can stop whatever a killed test left behind.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the harness keeps its private clusters and poolers.
pub fn clusters_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("rigmarket-test-clusters");
    std::fs::create_dir_all(&dir).expect("create the clusters directory");
    dir
}

pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// A PostgreSQL server binary from PATH or Debian's versioned directory.
pub fn pg_binary(name: &str) -> PathBuf {
    let from_path = std::env::var_os("PATH").into_iter().flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .collect();
    debian.sort();
    debian.reverse();
    from_path
        .chain(debian)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed (PostgreSQL server binaries; see README: Testing)"))
}

/// A directory the `postgres` user owns (when running as root).
pub fn owned_dir(path: &Path) {
    std::fs::create_dir_all(path).expect("create a directory");
    if is_root() {
        run(Command::new("chown").arg("-R").arg("postgres").arg(path));
    }
}

/// `program` as the `postgres` user when this process is root.
pub fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

/// Runs to completion; panics with the program's stderr when it fails.
pub fn run(cmd: &mut Command) {
    let output = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
}

/// A free loopback port (the OS picks; released for the server to bind).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
