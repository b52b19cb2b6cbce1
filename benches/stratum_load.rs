//! Stratum load generator (issue 16), in Rust so that it is not the bottleneck:
//! N sessions subscribe and authorize (worker `<token>.SN-<i>`), pre-solve their
//! shares at the proof's tiny difficulty before the clock starts, then submit.
//! Reports accepted shares/s, submit-to-answer latency percentiles and its own
//! CPU use. Driven by `benches/stratum.sh`:
//!
//!   cargo bench --bench stratum_load -- shares HOST:PORT TOKEN SESSIONS SECONDS [RATE]
//!   cargo bench --bench stratum_load -- idle   HOST:PORT TOKEN SESSIONS HOLD_SECONDS
//!
//! `RATE` 0 (default): every session submits its next share as soon as the last
//! is answered (closed loop, the throughput test). `RATE` > 0: shares/s in total,
//! spread evenly over the sessions (open loop, the latency test).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rigmarket::proofs::share::{header_bytes, share_target, Difficulty, Job, NotifyParams, Submission};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

struct Conn {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    extranonce1: Vec<u8>,
    difficulty: f64,
    job: Option<Job>,
}

impl Conn {
    async fn open(addr: &str, username: &str) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        let mut conn = Self {
            reader: BufReader::with_capacity(2048, read),
            writer: write,
            extranonce1: Vec::new(),
            difficulty: 0.0,
            job: None,
        };
        let subscribed = conn.call(1, "mining.subscribe", json!(["rigmarket-load/1"])).await?;
        conn.extranonce1 = hex::decode(subscribed["result"][1].as_str().unwrap_or_default()).unwrap_or_default();
        let authorized = conn.call(2, "mining.authorize", json!([username, "x"])).await?;
        if authorized["result"] != true {
            return Err(std::io::Error::other(format!("not authorized: {authorized}")));
        }
        while conn.job.is_none() || conn.difficulty == 0.0 {
            let message = conn.read().await?;
            conn.absorb(&message);
        }
        Ok(conn)
    }

    async fn read(&mut self) -> std::io::Result<Value> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        serde_json::from_str(&line).map_err(std::io::Error::other)
    }

    async fn call(&mut self, id: u64, method: &str, params: Value) -> std::io::Result<Value> {
        let line = format!("{}\n", json!({"id": id, "method": method, "params": params}));
        self.writer.write_all(line.as_bytes()).await?;
        loop {
            let message = self.read().await?;
            if message["id"] == json!(id) {
                return Ok(message);
            }
            self.absorb(&message);
        }
    }

    fn absorb(&mut self, message: &Value) {
        match message["method"].as_str() {
            Some("mining.set_difficulty") => self.difficulty = message["params"][0].as_f64().unwrap_or(0.0),
            Some("mining.notify") => {
                let p = &message["params"];
                let text = |i: usize| p[i].as_str().unwrap_or_default().to_string();
                let branch: [&str; 0] = [];
                self.job = Job::from_notify(&NotifyParams {
                    job_id: &text(0),
                    prevhash: &text(1),
                    coinb1: &text(2),
                    coinb2: &text(3),
                    merkle_branch: &branch,
                    version: &text(5),
                    nbits: &text(6),
                    ntime: &text(7),
                })
                .ok();
            }
            _ => {}
        }
    }

    /// `count` submit lines for shares that meet the target (ids from 10).
    fn presolve(&self, username: &str, session: u32, count: usize) -> Vec<String> {
        let job = self.job.as_ref().expect("a job");
        let target = share_target(Difficulty::new(self.difficulty).expect("a difficulty"));
        let mut lines = Vec::with_capacity(count);
        let mut share =
            Submission { extranonce2: session.to_be_bytes().to_vec(), ntime: job.ntime, nonce: 0, version_bits: None };
        while lines.len() < count {
            share.nonce += 1;
            let header = header_bytes(job, &self.extranonce1, &share, job.version);
            let hash = <bitcoin::hashes::sha256d::Hash as bitcoin::hashes::Hash>::hash(&header);
            if bitcoin::Target::from_le_bytes(*bitcoin::hashes::Hash::as_byte_array(&hash)) <= target {
                let id = 10 + lines.len();
                lines.push(format!(
                    "{{\"id\":{id},\"method\":\"mining.submit\",\"params\":[\"{username}\",\"{}\",\"{}\",\"{:08x}\",\"{:08x}\"]}}\n",
                    job.job_id,
                    hex::encode(&share.extranonce2),
                    share.ntime,
                    share.nonce
                ));
            }
        }
        lines
    }
}

#[derive(Default)]
struct Tally {
    accepted: AtomicU64,
    refused: AtomicU64,
    latencies_us: Mutex<Vec<u32>>,
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0 // utime, stime (fields 14 and 15 of stat); USER_HZ 100
}

async fn shares(addr: String, token: String, sessions: u32, seconds: u64, rate: f64) {
    let per_session =
        if rate > 0.0 { (rate / f64::from(sessions) * seconds as f64 * 1.2) as usize + 10 } else { 2_000 };
    let per_session = std::env::var("SHARES_PER_SESSION").ok().and_then(|v| v.parse().ok()).unwrap_or(per_session);
    let mut conns = Vec::new();
    for i in 0..sessions {
        let username = format!("{token}.SN-{i:05}");
        let conn = Conn::open(&addr, &username).await.expect("a session");
        let lines = conn.presolve(&username, i, per_session);
        conns.push((conn, lines));
    }
    eprintln!("{sessions} sessions ready, {per_session} pre-solved shares each");
    let tally = Arc::new(Tally::default());
    let cpu_start = cpu_seconds();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let interval = (rate > 0.0).then(|| Duration::from_secs_f64(f64::from(sessions) / rate));
    let mut tasks = Vec::new();
    for (index, (mut conn, lines)) in conns.into_iter().enumerate() {
        let tally = tally.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(lines.len());
            let mut ticker = interval.map(|every| {
                // Sessions start spread over one interval, not all at once.
                let offset = every.mul_f64(index as f64 / f64::from(sessions));
                tokio::time::interval_at(tokio::time::Instant::now() + offset, every)
            });
            for line in lines {
                if let Some(ticker) = ticker.as_mut() {
                    ticker.tick().await;
                }
                if Instant::now() >= deadline {
                    break;
                }
                let sent = Instant::now();
                if conn.writer.write_all(line.as_bytes()).await.is_err() {
                    break;
                }
                let answer = loop {
                    let mut reply = String::new();
                    match conn.reader.read_line(&mut reply).await {
                        Ok(0) | Err(_) => break None,
                        // Notifications (a new job) are skipped.
                        Ok(_) if reply.contains("\"method\"") => continue,
                        Ok(_) => break Some(reply),
                    }
                };
                let Some(answer) = answer else { break };
                latencies.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                if answer.contains("\"result\":true") {
                    tally.accepted.fetch_add(1, Ordering::Relaxed);
                } else {
                    tally.refused.fetch_add(1, Ordering::Relaxed);
                }
            }
            tally.latencies_us.lock().unwrap().extend(latencies);
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    let accepted = tally.accepted.load(Ordering::Relaxed);
    let mut latencies = std::mem::take(&mut *tally.latencies_us.lock().unwrap());
    latencies.sort_unstable();
    let pct =
        |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1))).copied();
    let ms = |us: Option<u32>| us.map(|us| f64::from(us) / 1000.0).unwrap_or(f64::NAN);
    println!("sessions={sessions} seconds={wall:.1} target_rate={rate}");
    println!("accepted={accepted} refused={}", tally.refused.load(Ordering::Relaxed));
    println!("accepted_per_sec={:.0}", accepted as f64 / wall);
    println!("latency_ms p50={:.2} p99={:.2} max={:.2}", ms(pct(0.5)), ms(pct(0.99)), ms(latencies.last().copied()));
    println!("loadgen_cpu_seconds={cpu:.1} loadgen_cpu_pct_of_one_core={:.0}", 100.0 * cpu / wall);
}

async fn idle(addr: String, token: String, sessions: u32, hold: u64) {
    let mut conns = Vec::with_capacity(sessions as usize);
    for i in 0..sessions {
        match Conn::open(&addr, &format!("{token}.SN-{i:05}")).await {
            Ok(conn) => conns.push(conn),
            Err(err) => {
                eprintln!("session {i}: {err}");
                break;
            }
        }
    }
    println!("idle_sessions_connected={}", conns.len());
    // The driver samples the server's RSS now; a marker file says when.
    if let Ok(marker) = std::env::var("CONNECTED_MARKER") {
        let _ = std::fs::write(marker, conns.len().to_string());
    }
    tokio::time::sleep(Duration::from_secs(hold)).await;
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let number = |i: usize, default: f64| args.get(i).and_then(|a| a.parse::<f64>().ok()).unwrap_or(default);
    // One thread: the generator must stay a small share of the two cores.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    match arg(0).as_str() {
        "shares" => {
            runtime.block_on(shares(arg(1), arg(2), number(3, 100.0) as u32, number(4, 10.0) as u64, number(5, 0.0)))
        }
        "idle" => runtime.block_on(idle(arg(1), arg(2), number(3, 1000.0) as u32, number(4, 10.0) as u64)),
        _ => eprintln!("usage: stratum_load shares|idle HOST:PORT TOKEN SESSIONS SECONDS [RATE]"),
    }
}
