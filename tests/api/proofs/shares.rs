//! Share checks over TCP: bad shares, garbage, version rolling.

use super::*;

#[tokio::test]
async fn bad_shares_are_refused_with_their_stratum_codes_and_counted() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let username = ticket["username"].as_str().unwrap().to_string();
    let mut miner = Miner::start(port_of(&ticket), &username).await;
    let good = miner.mine(0, 7, 400_000).into_iter().next().expect("a share within 400k hashes");
    assert_eq!(miner.submit(&username, &good).await["result"], true);
    // Replayed: the same share again.
    assert_eq!(miner.submit(&username, &good).await["error"][0], 22);
    // Low difficulty: a nonce whose hash misses the target.
    let mut weak = good.clone();
    weak.nonce = (0..).find(|n| miner.mine(*n, 7, 1).is_empty()).unwrap();
    assert_eq!(miner.submit(&username, &weak).await["error"][0], 23);
    // Stale: an unknown job id.
    let stale = miner
        .call("mining.submit", json!([username, "ffff", "00000007", format!("{:08x}", good.ntime), "00000000"]))
        .await;
    assert_eq!(stale["error"][0], 21);
    // Malformed: extranonce2 of the wrong size.
    let job_id = miner.job.as_ref().unwrap().job_id.clone();
    let short =
        miner.call("mining.submit", json!([username, job_id, "0007", format!("{:08x}", good.ntime), "00000000"])).await;
    assert_eq!(short["error"][0], 20);
    // A share mined on another connection (another extranonce1) does not carry
    // its work over: on this connection its header hashes differently. (Pick one
    // that also misses this connection's target: 1 in ~750 would pass by luck.)
    let other = Miner::start(port_of(&ticket), &username).await;
    let foreign = other
        .mine(0, 9, 2_000_000)
        .into_iter()
        .find(|share| !miner.meets_target(share))
        .expect("a foreign share that is worthless here");
    let foreign_job = other.job.as_ref().unwrap().job_id.clone();
    assert_eq!(foreign_job, miner.job.as_ref().unwrap().job_id, "same job id, different work");
    let params = json!([
        username,
        foreign_job,
        hex::encode(&foreign.extranonce2),
        format!("{:08x}", foreign.ntime),
        format!("{:08x}", foreign.nonce)
    ]);
    assert_eq!(miner.call("mining.submit", params).await["error"][0], 23);

    let (_, proof) = app.get_json(&format!("/v1/hashrate-proofs/{}", ticket["id"].as_str().unwrap())).await;
    assert_eq!(proof["shares_accepted"], 0, "the only accepted share opened the window: not counted {proof}");
    assert_eq!(proof["shares_rejected"]["duplicate"], 1);
    assert_eq!(proof["shares_rejected"]["low_difficulty"], 2, "the weak share and the foreign one");
    assert_eq!(proof["shares_rejected"]["stale_job"], 1);
    assert_eq!(proof["shares_rejected"]["bad_extranonce2_size"], 1);
}

#[tokio::test]
async fn garbage_gets_errors_and_a_flood_closes_only_that_connection() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let username = ticket["username"].as_str().unwrap().to_string();
    let mut healthy = Miner::start(port_of(&ticket), &username).await;
    let mut noisy = Miner::connect(port_of(&ticket)).await;
    noisy.send_raw("hello?").await;
    let answer = noisy.read_message().await.unwrap();
    assert_eq!(answer["error"][0], 20);
    let unknown = noisy.call("mining.teleport", json!([])).await;
    assert_eq!(unknown["error"][0], 20, "unknown methods get an error, not a disconnect");
    for _ in 0..20 {
        noisy.send_raw("{{{{ not json").await;
    }
    let mut closed = false;
    for _ in 0..25 {
        if noisy.read_message().await.is_none() {
            closed = true;
            break;
        }
    }
    assert!(closed, "a flood of garbage closes the connection");
    let share = healthy.mine(0, 1, 400_000).into_iter().next().unwrap();
    assert_eq!(healthy.submit(&username, &share).await["result"], true, "other miners are unaffected");
}

#[tokio::test]
async fn a_version_rolling_miner_is_accepted_within_the_negotiated_mask_only() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let username = ticket["username"].as_str().unwrap().to_string();
    let mut miner = Miner::connect(port_of(&ticket)).await;
    // As ASIC firmware does (BIP 310): configure before subscribing.
    let configured =
        miner.call("mining.configure", json!([["version-rolling"], {"version-rolling.mask": "ffffffff"}])).await;
    assert_eq!(configured["result"]["version-rolling"], true);
    assert_eq!(configured["result"]["version-rolling.mask"], "1fffe000");
    let subscribed = miner.call("mining.subscribe", json!(["bmminer/2.0.0"])).await;
    miner.extranonce1 = hex::decode(subscribed["result"][1].as_str().unwrap()).unwrap();
    assert_eq!(miner.call("mining.authorize", json!([username, "x"])).await["result"], true);
    assert_eq!(miner.call("mining.suggest_difficulty", json!([512])).await["result"], true, "acknowledged");
    miner.wait_for_job().await;

    let job = miner.job.clone().unwrap();
    let target = share_target(Difficulty::new(miner.difficulty).unwrap());
    let rolled_bits = 0x0000_6000_u32; // inside the mask
    let rolled_version = (job.version & !0x1fff_e000) | rolled_bits;
    let share = (0u32..2_000_000)
        .map(|nonce| Submission {
            extranonce2: vec![0, 0, 0, 3],
            ntime: job.ntime,
            nonce,
            version_bits: Some(rolled_bits),
        })
        .find(|s| {
            let header = header_bytes(&job, &miner.extranonce1, s, rolled_version);
            let hash = <bitcoin::hashes::sha256d::Hash as bitcoin::hashes::Hash>::hash(&header);
            bitcoin::Target::from_le_bytes(*bitcoin::hashes::Hash::as_byte_array(&hash)) <= target
        })
        .expect("a rolled share");
    let submit = |bits: u32| {
        json!([
            username,
            job.job_id,
            hex::encode(&share.extranonce2),
            format!("{:08x}", share.ntime),
            format!("{:08x}", share.nonce),
            format!("{bits:08x}")
        ])
    };
    assert_eq!(miner.call("mining.submit", submit(rolled_bits)).await["result"], true, "six-parameter submit");
    let outside = miner.call("mining.submit", submit(0x0000_0001)).await;
    assert_eq!(outside["error"][0], 20, "{outside}");
    let (_, proof) = app.get_json(&format!("/v1/hashrate-proofs/{}", ticket["id"].as_str().unwrap())).await;
    assert_eq!(proof["shares_rejected"]["version_bits_outside_mask"], 1);
}
