//! The real `rigmarket stratum` binary under load: `kill -9` loses no share a
//! miner heard accepted, and SIGTERM tells miners `client.reconnect`, answers
//! what is in flight and loses nothing.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rigmarket::db::ids::ProofId;
use rigmarket::db::schema::{hashrate_proofs, proof_shares};

use super::*;

const BINARY: &str = env!("CARGO_BIN_EXE_rigmarket");
const MINERS: u32 = 6;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn_stratum(database_url: &str, dir: &std::path::Path, port: u16) -> Child {
    Command::new(BINARY)
        .arg("stratum")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("RIGMARKET_MAIL_DIR", dir.join("mail"))
        .env("RIGMARKET_STORAGE_DIR", dir.join("storage"))
        .env("RIGMARKET_STRATUM_ADDR", format!("127.0.0.1:{port}"))
        .env("RIGMARKET_STRATUM_JOB_INTERVAL_SECS", "3600") // the pre-mined job stays current
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rigmarket stratum")
}

async fn wait_listening(port: u16) {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("rigmarket stratum did not listen on {port}");
}

fn header_hash(miner: &Miner, share: &Submission) -> Vec<u8> {
    let job = miner.job.as_ref().unwrap();
    let header = header_bytes(job, &miner.extranonce1, share, job.version);
    let hash = <bitcoin::hashes::sha256d::Hash as bitcoin::hashes::Hash>::hash(&header);
    bitcoin::hashes::Hash::as_byte_array(&hash).to_vec()
}

/// One miner submitting as fast as answers come, until the connection ends.
/// Returns the hashes it heard accepted and whether it was told to reconnect.
async fn mine_until_cut(port: u16, username: String, unit: u32, accepted: Arc<AtomicUsize>) -> (Vec<Vec<u8>>, bool) {
    let mut miner = Miner::start(port, &username).await;
    let shares = miner.mine(0, unit, 400_000);
    let mut heard = Vec::new();
    for share in &shares {
        match miner.try_submit(&username, share).await {
            Some(answer) if answer["result"] == true => {
                heard.push(header_hash(&miner, share));
                accepted.fetch_add(1, Ordering::Relaxed);
            }
            Some(answer) => panic!("a fresh share refused: {answer}"),
            None => break,
        }
    }
    // Anything still to read (a reconnect after the last answer) before EOF.
    while let Some(message) = miner.read_message().await {
        miner.pending.push(message);
    }
    let told = miner.pending.iter().any(|m| m["method"] == "client.reconnect");
    (heard, told)
}

struct Load {
    tasks: Vec<tokio::task::JoinHandle<(Vec<Vec<u8>>, bool)>>,
    accepted: Arc<AtomicUsize>,
}

async fn start_load(port: u16, ticket: &Value) -> Load {
    let token = ticket["username"].as_str().unwrap().split('.').next().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let tasks = (0..MINERS)
        .map(|unit| tokio::spawn(mine_until_cut(port, format!("{token}.SN-{unit}"), unit, accepted.clone())))
        .collect();
    Load { tasks, accepted }
}

impl Load {
    async fn wait_for(&self, shares: usize) {
        for _ in 0..600 {
            if AtomicUsize::load(&self.accepted, Ordering::Relaxed) >= shares {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the load never reached {shares} accepted shares");
    }

    async fn finish(self) -> (Vec<Vec<u8>>, usize) {
        let (mut heard, mut told) = (Vec::new(), 0);
        for task in self.tasks {
            let (hashes, reconnect) = tokio::time::timeout(Duration::from_secs(60), task).await.unwrap().unwrap();
            heard.extend(hashes);
            told += usize::from(reconnect);
        }
        (heard, told)
    }
}

/// Every hash a miner heard accepted is a row, and the proof's count agrees
/// with its rows (the opener stored, not counted).
async fn assert_nothing_lost(app: &TestApp, proof_id: ProofId, heard: &[Vec<u8>]) {
    let mut conn = app.state.pool.get().await.unwrap();
    let stored: HashSet<Vec<u8>> = proof_shares::table
        .filter(proof_shares::proof_id.eq(proof_id))
        .select(proof_shares::header_hash)
        .load::<Vec<u8>>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let lost = heard.iter().filter(|h| !stored.contains(*h)).count();
    assert_eq!(lost, 0, "{lost} of {} shares heard accepted are not in proof_shares", heard.len());
    let counted: i64 =
        hashrate_proofs::table.find(proof_id).select(hashrate_proofs::shares_accepted).first(&mut conn).await.unwrap();
    assert_eq!(counted as usize + 1, stored.len(), "the proof's count matches its rows");
}

async fn proof_for_real_time() -> (TestApp, Value, tempfile::TempDir) {
    // The child process runs on the wall clock: the proof is issued at real now.
    let app = TestApp::builder().at(chrono::Utc::now()).spawn().await;
    let (_, ticket) = proof_setup(&app, 600, 1).await;
    (app, ticket, tempfile::tempdir().unwrap())
}

#[tokio::test]
async fn kill_9_under_load_loses_no_share_a_miner_heard_accepted() {
    let (app, ticket, dir) = proof_for_real_time().await;
    let port = free_port();
    let mut child = spawn_stratum(&app.direct_database_url, dir.path(), port);
    wait_listening(port).await;
    let load = start_load(port, &ticket).await;
    load.wait_for(150).await;
    child.kill().unwrap(); // SIGKILL: no drain, no flush
    child.wait().unwrap();
    let (heard, _) = load.finish().await;
    assert!(heard.len() >= 150);
    assert_nothing_lost(&app, ticket["id"].as_str().unwrap().parse().unwrap(), &heard).await;
}

#[tokio::test]
async fn sigterm_tells_miners_to_reconnect_answers_what_is_in_flight_and_loses_nothing() {
    let (app, ticket, dir) = proof_for_real_time().await;
    let port = free_port();
    let mut child = spawn_stratum(&app.direct_database_url, dir.path(), port);
    wait_listening(port).await;
    let load = start_load(port, &ticket).await;
    load.wait_for(150).await;
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let (heard, told) = load.finish().await;
    assert_eq!(told, MINERS as usize, "every miner was told client.reconnect");
    let mut status = None;
    for _ in 0..100 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = status.unwrap_or_else(|| {
        child.kill().unwrap();
        panic!("rigmarket stratum did not exit within 10 s of SIGTERM")
    });
    assert!(status.success(), "{status}");
    assert_nothing_lost(&app, ticket["id"].as_str().unwrap().parse().unwrap(), &heard).await;
}
