//! Pool scale (issue 16): group commit keeps every rule of one share at a time,
//! and the listener's hygiene (deadlines, caps, slow readers, the end of the
//! window) over real TCP.

use std::collections::BTreeMap;

use chrono::Duration as ChronoDuration;
use rigmarket::config::StratumSettings;
use rigmarket::db::ids::ProofId;
use rigmarket::proofs::model::ShareOutcome;
use rigmarket::proofs::share_batch::{record_batch, NewShare};
use rigmarket::proofs::{queries, ShareWriter};

use super::*;

fn proof_id_of(ticket: &Value) -> ProofId {
    ticket["id"].as_str().unwrap().parse().unwrap()
}

fn share(proof_id: ProofId, worker: &str, n: u8) -> NewShare {
    NewShare { proof_id, worker: worker.into(), header_hash: vec![n; 32] }
}

async fn proof_json(app: &TestApp, ticket: &Value) -> Value {
    app.get_json(&format!("/v1/hashrate-proofs/{}", ticket["id"].as_str().unwrap())).await.1
}

#[tokio::test]
async fn a_batch_refuses_copies_inside_it_and_across_batches_and_closed_proofs_and_counts_rejects() {
    let app = TestApp::builder().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let id = proof_id_of(&ticket);
    let mut conn = app.state.pool.get().await.unwrap();
    let now = app.clock.now();
    let rejects = vec![(id, "stale_job".to_string()), (id, "stale_job".to_string()), (id, "low_difficulty".into())];
    let batch = [share(id, "A", 1), share(id, "B", 2), share(id, "A", 1), share(id, "A", 3)];
    let recorded = record_batch(&mut conn, &batch, &rejects, now).await.unwrap();
    let outcomes: Vec<ShareOutcome> = recorded.iter().map(|r| r.outcome.clone()).collect();
    use ShareOutcome::{Accepted, Closed, Duplicate};
    assert_eq!(outcomes, [Accepted, Accepted, Duplicate, Accepted], "the second copy in one batch is a duplicate");
    assert!(recorded.iter().all(|r| r.window_ends_at == Some(now + ChronoDuration::seconds(60))));

    let later = [share(id, "B", 2), share(id, "B", 4)];
    let recorded = record_batch(&mut conn, &later, &[], now).await.unwrap();
    assert_eq!(recorded.iter().map(|r| r.outcome.clone()).collect::<Vec<_>>(), [Duplicate, Accepted]);

    app.clock.advance(ChronoDuration::seconds(60));
    let closed = record_batch(&mut conn, &[share(id, "B", 5)], &[], app.clock.now()).await.unwrap();
    assert_eq!(closed[0].outcome, Closed, "the window ended");

    let proof = proof_json(&app, &ticket).await;
    assert_eq!(proof["shares_accepted"], 3, "four accepted, the opener (A's first) not counted: {proof}");
    assert_eq!(proof["shares_rejected"]["duplicate"], 2);
    assert_eq!(proof["shares_rejected"]["stale_job"], 2);
    assert_eq!(proof["shares_rejected"]["low_difficulty"], 1);
    let per_worker = queries::shares_per_worker(&mut conn, id).await.unwrap();
    assert_eq!(per_worker, [("A".to_string(), 1), ("B".to_string(), 2)]);
}

#[tokio::test]
async fn copies_of_one_share_racing_through_two_processes_writers_are_accepted_once() {
    let app = TestApp::builder().spawn().await;
    let (_, ticket) = proof_setup(&app, 600, 1).await;
    let id = proof_id_of(&ticket);
    let other = app.another_instance().await;
    let writers = [app.instance.shares.clone(), other.shares.clone()];
    let mut tasks = Vec::new();
    for n in 0..200u32 {
        let writer: ShareWriter = writers[n as usize % 2].clone();
        // Every fourth submission is the same share; the rest are distinct.
        let hash = if n % 4 == 0 { vec![0xAA; 32] } else { n.to_be_bytes().repeat(8) };
        let share = NewShare { proof_id: id, worker: format!("W{}", n % 5), header_hash: hash };
        tasks.push(tokio::spawn(async move { writer.record(share).await.unwrap().outcome }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let copies: Vec<&ShareOutcome> = outcomes.iter().step_by(4).collect();
    assert_eq!(copies.iter().filter(|o| ***o == ShareOutcome::Accepted).count(), 1, "{copies:?}");
    assert_eq!(copies.iter().filter(|o| ***o == ShareOutcome::Duplicate).count(), 49);
    let accepted = outcomes.iter().filter(|o| **o == ShareOutcome::Accepted).count();
    assert_eq!(accepted, 151);
    let proof = proof_json(&app, &ticket).await;
    assert_eq!(proof["shares_accepted"], 150, "{proof}");
    assert_eq!(proof["shares_rejected"]["duplicate"], 49);
}

#[tokio::test]
async fn many_miners_at_once_get_per_worker_counts_that_match_their_accepted_answers() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = proof_setup(&app, 600, 1).await;
    let token = ticket["username"].as_str().unwrap().split('.').next().unwrap().to_string();
    let port = port_of(&ticket);
    // Mining is CPU work on the test's one thread: done before the submits
    // race, so it does not stall the server on the same runtime.
    let mut rigs = Vec::new();
    for unit in 0..12u32 {
        let username = format!("{token}.SN-{unit:04}");
        let miner = Miner::start(port, &username).await;
        // Different units mine at different rates: 20k to 240k hashes.
        let shares = miner.mine(0, unit, 20_000 * (unit + 1));
        rigs.push((unit, username, miner, shares));
    }
    let mut tasks = Vec::new();
    for (unit, username, mut miner, shares) in rigs {
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0u64;
            for share in &shares {
                let answer = miner.submit(&username, share).await;
                assert_eq!(answer["result"], true, "{answer}");
                accepted += 1;
            }
            // And a replay of its first share, refused.
            if let Some(first) = shares.first() {
                assert_eq!(miner.submit(&username, first).await["error"][0], 22);
            }
            (format!("SN-{unit:04}"), accepted)
        }));
    }
    let mut answered = BTreeMap::new();
    for task in tasks {
        let (worker, accepted) = task.await.unwrap();
        answered.insert(worker, accepted);
    }
    let total: u64 = answered.values().sum();
    assert!(total > 100, "enough shares to mean something: {total}");
    let mut conn = app.state.pool.get().await.unwrap();
    let counted: BTreeMap<String, i64> =
        queries::shares_per_worker(&mut conn, proof_id_of(&ticket)).await.unwrap().into_iter().collect();
    let mut opener_seen = false;
    for (worker, accepted) in &answered {
        let counted = counted.get(worker).copied().unwrap_or(0) as u64;
        if counted + 1 == *accepted && !opener_seen {
            opener_seen = true; // this unit's first share opened the window
        } else {
            assert_eq!(counted, *accepted, "{worker}");
        }
    }
    assert!(opener_seen);
    let proof = proof_json(&app, &ticket).await;
    assert_eq!(proof["shares_accepted"].as_u64().unwrap(), total - 1);
    assert_eq!(
        proof["shares_rejected"]["duplicate"].as_u64().unwrap(),
        answered.values().filter(|a| **a > 0).count() as u64
    );
}

/// A stratum-only process on the app's database with its own settings.
pub(crate) async fn stratum_with(
    app: &TestApp,
    tune: impl FnOnce(&mut StratumSettings),
) -> (u16, tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let mut config = crate::support::base_config(&app.direct_database_url);
    config.mail = app.state.config.mail.clone();
    config.storage = app.state.config.storage.clone();
    tune(&mut config.stratum);
    let process = rigmarket::Application::build(
        config,
        app.clock.clone(),
        rigmarket::Roles { http: false, worker: false, stratum: true },
    )
    .await
    .unwrap();
    let port = process.state().stratum_port();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(process.run_until_stopped(stopped));
    (port, stop, running)
}

/// Whether the server closes `miner`'s connection within `seconds`.
async fn closed_within(miner: &mut Miner, seconds: u64) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let mut line = String::new();
        match tokio::time::timeout_at(deadline, miner.reader.read_line(&mut line)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn miners_that_do_not_subscribe_and_authorize_in_time_are_closed_and_authorized_ones_stay() {
    let app = TestApp::builder().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let username = ticket["username"].as_str().unwrap().to_string();
    let (port, _stop, _running) = stratum_with(&app, |s| s.handshake_deadline = Duration::from_secs(1)).await;
    let mut silent = Miner::connect(port).await;
    let mut half = Miner::connect(port).await;
    assert!(half.call("mining.subscribe", json!(["half/1"])).await["result"].is_array());
    let mut miner = Miner::start(port, &username).await;
    assert!(closed_within(&mut silent, 5).await, "said nothing");
    assert!(closed_within(&mut half, 5).await, "subscribed but never authorized");
    assert_eq!(miner.call("mining.suggest_difficulty", json!([1])).await["result"], true, "still served");
}

#[tokio::test]
async fn an_idle_miner_is_closed_after_the_idle_timeout() {
    let app = TestApp::builder().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let username = ticket["username"].as_str().unwrap().to_string();
    let (port, _stop, _running) = stratum_with(&app, |s| s.idle_timeout = Duration::from_secs(1)).await;
    let mut busy = Miner::start(port, &username).await;
    let mut idle = Miner::start(port, &username).await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(busy.call("mining.suggest_difficulty", json!([1])).await["result"], true, "talking keeps it open");
    }
    assert!(closed_within(&mut idle, 5).await);
}

#[tokio::test]
async fn a_line_over_the_cap_is_garbage_and_the_connection_stays() {
    let app = TestApp::builder().spawn().await;
    let (port, _stop, _running) = stratum_with(&app, |s| s.max_line_bytes = 512).await;
    let mut miner = Miner::connect(port).await;
    let long = json!({"id": 1, "method": "mining.subscribe", "params": ["x".repeat(600)]}).to_string();
    miner.send_raw(&long).await;
    let answer = miner.read_message().await.expect("an answer");
    assert_eq!(answer["error"][0], 20, "{answer}");
    let fits = miner.call("mining.subscribe", json!(["x".repeat(400)])).await;
    assert!(fits["result"].is_array(), "{fits}");
}

#[tokio::test]
async fn connections_over_the_per_ip_cap_and_the_global_cap_are_closed_on_accept() {
    let app = TestApp::builder().spawn().await;
    let (per_ip, _stop, _running) = stratum_with(&app, |s| s.max_connections_per_ip = 2).await;
    let (global, _stop2, _running2) = stratum_with(&app, |s| s.max_connections = 3).await;
    for (port, cap) in [(per_ip, 2), (global, 3)] {
        let mut held = Vec::new();
        for _ in 0..cap {
            let mut miner = Miner::connect(port).await;
            assert!(miner.call("mining.subscribe", json!(["ok/1"])).await["result"].is_array());
            held.push(miner);
        }
        let mut over = Miner::connect(port).await;
        assert!(closed_within(&mut over, 5).await, "over the cap of {cap}");
        drop(held.pop());
        // The freed place is given back (the server notices the close first).
        let mut again = None;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let mut miner = Miner::connect(port).await;
            if miner.try_call("mining.subscribe", json!(["again/1"])).await.is_some() {
                again = Some(miner);
                break;
            }
        }
        assert!(again.is_some(), "a place freed is usable again");
    }
}

#[tokio::test]
async fn a_miner_that_stops_reading_is_dropped_and_others_are_unaffected() {
    let app = TestApp::builder().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let username = ticket["username"].as_str().unwrap().to_string();
    let (port, _stop, _running) = stratum_with(&app, |s| {
        s.write_timeout = Duration::from_secs(1);
        s.send_buffer_bytes = 4096;
        s.handshake_deadline = Duration::from_secs(600); // only the write deadline may drop it
    })
    .await;
    let mut healthy = Miner::start(port, &username).await;
    // A rig whose firmware hangs: it authorized, then stops reading (a small
    // receive buffer, as on an embedded controller, fills at once).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(([127, 0, 0, 1], port).into()).await.unwrap();
    let (read, write) = stream.into_split();
    let mut slow = Miner {
        reader: BufReader::new(read),
        writer: write,
        next_id: 0,
        extranonce1: Vec::new(),
        difficulty: 0.0,
        job: None,
        pending: Vec::new(),
    };
    slow.call("mining.subscribe", json!(["hung/1"])).await;
    assert_eq!(slow.call("mining.authorize", json!([username, "x"])).await["result"], true);
    let (mut slow_read, mut slow_write) = (slow.reader, slow.writer);
    const REQUESTS: usize = 200_000;
    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let written_by_flood = written.clone();
    let flood = tokio::spawn(async move {
        let line = "{\"id\":1,\"method\":\"mining.suggest_difficulty\",\"params\":[1]}\n".repeat(1000);
        for _ in 0..REQUESTS / 1000 {
            if slow_write.write_all(line.as_bytes()).await.is_err() {
                return false; // the server dropped us
            }
            written_by_flood.fetch_add(1000, std::sync::atomic::Ordering::Relaxed);
        }
        true
    });
    // The other miner is served while the slow one's answers pile up.
    let shares = healthy.mine(0, 1, 100_000);
    for share in &shares[..3] {
        assert_eq!(healthy.submit(&username, share).await["result"], true);
    }
    let wrote_everything = tokio::time::timeout(Duration::from_secs(30), flood).await.expect("flood ends").unwrap();
    // Whatever was buffered, the connection ends long before every answer.
    let mut answers = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match tokio::io::AsyncReadExt::read(&mut slow_read, &mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answers += buf[..n].iter().filter(|b| **b == b'\n').count(),
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the server closed the slow connection");
    assert!(answers < REQUESTS, "dropped before all {REQUESTS} answers (got {answers}, wrote all: {wrote_everything})");
    assert_eq!(healthy.submit(&username, &shares[3]).await["result"], true, "the healthy miner still mines");
}

#[tokio::test]
async fn the_end_of_the_window_closes_the_session_instead_of_refusing_forever() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let username = ticket["username"].as_str().unwrap().to_string();
    let mut miner = Miner::start(port_of(&ticket), &username).await;
    let shares = miner.mine(0, 1, 200_000);
    assert_eq!(miner.submit(&username, &shares[0]).await["result"], true, "opens the window");
    assert_eq!(miner.submit(&username, &shares[1]).await["result"], true);
    app.clock.advance(ChronoDuration::seconds(61));
    let late = miner.submit(&username, &shares[2]).await;
    assert_eq!(late["error"][0], 24, "{late}");
    assert!(closed_within(&mut miner, 5).await, "then the session ends");
    let proof = proof_json(&app, &ticket).await;
    assert_eq!(proof["shares_accepted"], 1);
    // A session that authorizes after the end is refused at once, as before.
    let mut again = Miner::connect(port_of(&ticket)).await;
    again.call("mining.subscribe", json!(["late/1"])).await;
    assert_eq!(again.call("mining.authorize", json!([username, "x"])).await["result"], false);
}
