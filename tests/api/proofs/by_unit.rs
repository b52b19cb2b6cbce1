//! A proof of a lot sold by serial: CPU miners mine under their serials at
//! different rates, one never connects, a stranger's worker is refused, and
//! the verdict judges every unit on its own shares.

use super::*;

/// A draft lot of CPU rigs with units `UNIT-1`..`UNIT-{count}` and a proof on it.
async fn serial_proof(app: &TestApp, count: usize) -> (String, Value) {
    let admin = app.admin_token().await;
    let model =
        json!({"manufacturer": "rigmarket", "name": "CPU test rig", "hashrate_hs": RIG_HASHRATE_HS, "power_w": 65});
    let model: Value = app.post_json("/v1/admin/rig-models", Some(&admin), &model).await.json().await.unwrap();
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let listing = json!({"rig_model_id": model["id"], "title": "CPU rigs by serial", "quantity": count,
                         "unit_price_cents": 1000, "currency": "USD", "country": "KZ"});
    let listing: Value = app.post_json("/v1/listings", Some(&seller), &listing).await.json().await.unwrap();
    let id = listing["id"].as_str().unwrap().to_string();
    let units = json!({"units": (1..=count).map(|i| json!({"serial": format!("UNIT-{i}")})).collect::<Vec<_>>()});
    assert_eq!(app.post_json(&format!("/v1/listings/{id}/units"), Some(&seller), &units).await.status(), 201);
    // `units` is ignored for a lot sold by serial: every unit is expected.
    let path = format!("/v1/listings/{id}/hashrate-proofs");
    let response = app.post_json(&path, Some(&seller), &json!({"units": 1, "duration_secs": 60})).await;
    assert_eq!(response.status(), 201);
    (id, response.json().await.unwrap())
}

fn verdicts(proof: &Value) -> Vec<(String, String)> {
    proof["unit_verdicts"]
        .as_array()
        .unwrap_or_else(|| panic!("no unit verdicts in {proof}"))
        .iter()
        .map(|u| (u["serial"].as_str().unwrap().to_string(), u["status"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn a_lot_proof_judges_every_unit_by_its_serial() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = serial_proof(&app, 4).await;
    assert_eq!(ticket["claimed_hashrate_hs"], 4 * RIG_HASHRATE_HS, "every unit of the lot");
    // About 400 shares per unit at nominal over the window.
    let expected_per_unit =
        (RIG_HASHRATE_HS * 60) as f64 / (ticket["share_difficulty"].as_f64().unwrap() * 4_294_967_296.0);
    assert!((380.0..=420.0).contains(&expected_per_unit), "{expected_per_unit} shares per unit");

    let token = ticket["username"].as_str().unwrap().trim_end_matches(".worker").to_string();
    let port = port_of(&ticket);
    // UNIT-1 and UNIT-2 at nominal (one named in lower case), UNIT-3 at 55 %,
    // UNIT-4 never connects, and a worker that is no unit of the lot.
    let rigs = [("UNIT-1", 20_000), ("unit-2", 20_000), ("UNIT-3", 11_000), ("UNIT-9", 5_000)];
    let mut miners = Vec::new();
    for (worker, rate) in rigs {
        let username = format!("{token}.{worker}");
        miners.push((Miner::start(port, &username).await, username, rate));
    }
    let tally = mine_together(&app, &mut miners, 60).await;
    assert_eq!(tally[3].0, 0, "no share of an unknown worker is accepted");
    assert!(tally[3].1 > 0, "the unknown worker's shares were refused");
    app.drain_jobs().await;

    let (_, proof) = app.get_json(&format!("/v1/hashrate-proofs/{}", ticket["id"].as_str().unwrap())).await;
    assert_eq!(
        verdicts(&proof),
        [("UNIT-1", "ok"), ("UNIT-2", "ok"), ("UNIT-3", "under_90"), ("UNIT-4", "not_connected")]
            .map(|(s, v)| (s.to_string(), v.to_string()))
    );
    assert!(proof["shares_rejected"]["unknown_worker"].as_i64().unwrap() > 0, "{proof}");
    let unit_1 = &proof["unit_verdicts"][0];
    let (low, high) = (unit_1["ci95_low_hs"].as_f64().unwrap(), unit_1["ci95_high_hs"].as_f64().unwrap());
    let estimate = unit_1["estimated_hashrate_hs"].as_f64().unwrap();
    assert!((high - low) / 2.0 / estimate < 0.11, "each unit's interval is about ±10 %: {unit_1}");
    // The lot is claimed for the three units that connected.
    let ratio = proof["ratio_to_claim"].as_f64().unwrap();
    let lot_estimate = proof["estimated_hashrate_hs"].as_f64().unwrap();
    assert!((lot_estimate / (3 * RIG_HASHRATE_HS) as f64 - ratio).abs() < 1e-9, "{proof}");
    let shares: i64 =
        proof["unit_verdicts"].as_array().unwrap().iter().map(|u| u["shares_accepted"].as_i64().unwrap()).sum();
    assert_eq!(shares, proof["shares_accepted"].as_i64().unwrap(), "every accepted share is some unit's");
}
