//! The `rigmarket` binary itself: start-up of two instances on a fresh database,
//! graceful shutdown, and the CSV imports (all or nothing, with line numbers).

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use diesel::QueryDsl;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::support::database::{self, DatabaseGuard};
use crate::support::TestApp;

const BINARY: &str = env!("CARGO_BIN_EXE_rigmarket");

fn command(database_url: &str, dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BINARY);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("RIGMARKET_MAIL_DIR", dir.join("mail"))
        .env("RIGMARKET_STORAGE_DIR", dir.join("storage"))
        .env("RIGMARKET_STRATUM_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run rigmarket")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn count_models(url: &str) -> i64 {
    use rigmarket::db::schema::rig_models;
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    rig_models::table.count().get_result(&mut conn).await.unwrap()
}

async fn wait_ready(port: u16) -> bool {
    let client = reqwest::Client::new();
    for _ in 0..120 {
        let answer = client.get(format!("http://127.0.0.1:{port}/health/ready")).send().await;
        if answer.is_ok_and(|r| r.status() == 200) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("rigmarket did not stop within 10 s of SIGTERM");
}

#[tokio::test]
async fn two_instances_start_together_on_a_missing_database_and_stop_cleanly() {
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let _guard = DatabaseGuard(name.clone());
    let url = database::database_url(&name);
    let dir = tempfile::tempdir().unwrap();
    let ports = [free_port(), free_port()];
    let mut children: Vec<Child> = ports
        .iter()
        .map(|port| {
            command(&url, dir.path())
                .env("RIGMARKET_HTTP_ADDR", format!("127.0.0.1:{port}"))
                .arg("serve")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for port in ports {
        assert!(wait_ready(port).await, "instance on {port} became ready");
    }
    let (_, page) = {
        let body: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{}/v1/rig-models?limit=100", ports[1]))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ((), body)
    };
    assert_eq!(page["items"].as_array().unwrap().len(), 31);
    assert_eq!(count_models(&url).await, 31, "the seed ran once, not twice");
    for child in &mut children {
        assert!(terminate(child).success(), "SIGTERM leads to a clean exit");
    }
}

#[tokio::test]
async fn logs_written_to_a_pipe_carry_no_colour_codes() {
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let _guard = DatabaseGuard(name.clone());
    let dir = tempfile::tempdir().unwrap();
    let output = run(command(&database::database_url(&name), dir.path()).env("RUST_LOG", "info").arg("migrate"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let logs = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(logs.contains("applied migrations"), "the migration is logged: {logs}");
    assert!(!logs.contains("\x1b["), "no ANSI escape codes outside a terminal: {logs:?}");
}

#[tokio::test]
async fn catalog_import_is_all_or_nothing_with_line_numbers() {
    let app = TestApp::builder().spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let url = &app.direct_database_url;
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "manufacturer,model,algorithm,hashrate_ths,power_w,efficiency_j_per_th,release_year,source\n\
         Bitmain,Antminer S21 Pro,SHA-256,234,3510,15,2024,spec sheet\n\
         Bitmain,Broken,SHA-256,100,-1,,2024,x\n",
    )
    .unwrap();
    let output = run(command(url, dir.path()).args(["catalog", "import"]).arg(&bad));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3: power_w"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(count_models(url).await, 31);

    // An unterminated quote would swallow the rest of the file into one field.
    let runaway = dir.path().join("runaway.csv");
    std::fs::write(
        &runaway,
        "manufacturer,model,algorithm,hashrate_ths,power_w,efficiency_j_per_th,release_year,source\n\
         Bitmain,Antminer S21 Pro,SHA-256,234,3510,15,2024,\"spec sheet\n\
         Bitmain,Antminer S9,SHA-256,14,1372,98,2016,rebinned\n",
    )
    .unwrap();
    let output = run(command(url, dir.path()).args(["catalog", "import"]).arg(&runaway));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2: row: unterminated quote"), "{stderr}");
    assert_eq!(count_models(url).await, 31);

    let good = dir.path().join("good.csv");
    let mut file = std::fs::File::create(&good).unwrap();
    writeln!(file, "manufacturer,model,algorithm,hashrate_ths,power_w,efficiency_j_per_th,release_year,source")
        .unwrap();
    writeln!(file, "Bitmain,Antminer S21 Pro,SHA-256,234,3510,15,2024,spec sheet").unwrap();
    writeln!(file, "Bitmain,Antminer S9,SHA-256,14,1372,98,2016,rebinned").unwrap();
    drop(file);
    let dry = run(command(url, dir.path()).args(["catalog", "import", "--dry-run"]).arg(&good));
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    assert_eq!(count_models(url).await, 31, "a dry run writes nothing");
    let real = run(command(url, dir.path()).args(["catalog", "import"]).arg(&good));
    assert!(real.status.success(), "{}", String::from_utf8_lossy(&real.stderr));
    assert_eq!(count_models(url).await, 32, "one new model, one updated");
    let summary = String::from_utf8_lossy(&real.stdout);
    assert!(summary.contains("1 inserted, 1 updated, 0 unchanged"), "{summary}");
    let again = run(command(url, dir.path()).args(["catalog", "import"]).arg(&good));
    let summary = String::from_utf8_lossy(&again.stdout);
    assert!(summary.contains("0 inserted, 0 updated, 2 unchanged"), "rows already there are not 'imported': {summary}");
    let (_, s9) = app.get_json("/v1/rig-models?tier=above68&limit=100").await;
    let s9 = s9["items"].as_array().unwrap().iter().find(|m| m["name"] == "Antminer S9").unwrap().clone();
    assert_eq!(s9["hashrate_hs"], 14_000_000_000_000_i64);
}

#[tokio::test]
async fn reference_price_imports_detect_the_format_and_resolve_models() {
    let app = TestApp::builder().spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let url = &app.direct_database_url;
    let tiers = dir.path().join("tiers.csv");
    std::fs::write(&tiers, "date,tier,usd_per_th,source\n2025-06-01,25to38,14.50,desk\n2025-06-01,19to25,18.00,desk\n")
        .unwrap();
    let output = run(command(url, dir.path()).args(["reference-prices", "import"]).arg(&tiers));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // S19 Pro (29.5 J/TH): the 25to38 point of 2025-06-01 is now the latest: 14.50 x 110.
    let (_, page) = app.get_json("/v1/rig-models?tier=25to38&limit=100").await;
    let id = page["items"].as_array().unwrap().iter().find(|m| m["name"] == "Antminer S19 Pro").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, model) = app.get_json(&format!("/v1/rig-models/{id}")).await;
    assert_eq!(model["reference"]["unit_price_cents"], 159_500);
    assert_eq!(model["reference"]["tier_band"], "25to38");

    let prices = dir.path().join("prices.csv");
    std::fs::write(
        &prices,
        "manufacturer,model,date,basis,amount_usd,note\n\
         Bitmain,Antminer S19 Pro,2025-07-01,unit,1500.00,auction\n\
         Bitmain,Antminer S99,2025-07-01,unit,1.00,typo\n\
         Bitmain,Antminer S19 Pro,2025-07-02,weird,1500.00,bad basis\n",
    )
    .unwrap();
    let rejected = run(command(url, dir.path()).args(["reference-prices", "import"]).arg(&prices));
    assert_eq!(rejected.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&rejected.stderr);
    // The unknown model and the syntax error, at once and in file order.
    assert!(stderr.contains("2 problem(s)"), "{stderr}");
    let at = |needle: &str| stderr.find(needle).unwrap_or_else(|| panic!("{needle} in {stderr}"));
    assert!(at("line 3: model: no model Bitmain Antminer S99") < at("line 4: basis"), "{stderr}");
    let (_, model) = app.get_json(&format!("/v1/rig-models/{id}")).await;
    assert_eq!(model["reference"]["origin"], "tier_index", "nothing written");

    std::fs::write(
        &prices,
        "manufacturer,model,date,basis,amount_usd,note\nBitmain,Antminer S19 Pro,2025-07-01,unit,1500.00,auction\n",
    )
    .unwrap();
    let accepted = run(command(url, dir.path()).args(["reference-prices", "import"]).arg(&prices));
    assert!(accepted.status.success(), "{}", String::from_utf8_lossy(&accepted.stderr));
    let (_, model) = app.get_json(&format!("/v1/rig-models/{id}")).await;
    assert_eq!(model["reference"]["unit_price_cents"], 150_000);
    assert_eq!(model["reference"]["origin"], "model");
}

#[tokio::test]
async fn admin_grant_gives_the_role_and_fails_for_unknown_emails() {
    let app = TestApp::builder().spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let (id, _) = app.create_user("ops@rigmarket.test", &[]).await;
    let granted = run(command(&app.direct_database_url, dir.path()).args(["admin", "grant", "OPS@rigmarket.test"]));
    assert!(granted.status.success(), "{}", String::from_utf8_lossy(&granted.stderr));
    let mut conn = app.conn().await;
    let account = rigmarket::accounts::load_account(&mut conn, id.into()).await.unwrap().unwrap();
    assert_eq!(account.roles, vec!["admin".to_string()]);
    let unknown = run(command(&app.direct_database_url, dir.path()).args(["admin", "grant", "nobody@rigmarket.test"]));
    assert_eq!(unknown.status.code(), Some(1));
}

/// The `token` of the first `path` link printed on a line of its own.
fn printed_link_token(output: &str, path: &str) -> Option<String> {
    output
        .lines()
        .filter_map(|line| url::Url::parse(line.trim()).ok())
        .find(|url| url.path() == path)
        .and_then(|url| url.query_pairs().find(|(name, _)| name == "token").map(|(_, token)| token.into_owned()))
}

#[tokio::test]
async fn mail_show_prints_a_verification_token_that_works_where_grep_breaks() {
    let app = TestApp::builder().spawn().await;
    let rigmarket::config::MailTransportConfig::Files { dir: mail_dir } = app.state.config.mail.transport.clone()
    else {
        panic!("the default transport writes files");
    };
    let response = crate::support::accounts::register(
        &app,
        "newcomer@rigmarket.test",
        crate::support::accounts::PASSWORD,
        "Newcomer",
    )
    .await;
    assert_eq!(response.status().as_u16(), 201);
    app.create_user("other@rigmarket.test", &[]).await;
    rigmarket::accounts::grant_admin(&mut *app.conn().await, "other@rigmarket.test", app.clock.now()).await.unwrap();
    assert_eq!(app.drain_jobs().await, 2);
    let dir = tempfile::tempdir().unwrap();
    let mail = |args: &[&str]| {
        let output = run(command(&app.direct_database_url, dir.path()).env("RIGMARKET_MAIL_DIR", &mail_dir).args(args));
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };

    // Grep-style extraction from the raw file gives a quoted-printable token.
    let raw: String = std::fs::read_dir(&mail_dir)
        .unwrap()
        .flatten()
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap())
        .find(|raw| raw.contains("Confirm your email"))
        .expect("the verification .eml file");
    let grepped = raw.split("token=").nth(1).unwrap().split_whitespace().next().unwrap();
    assert!(grepped.starts_with("3D"), "the raw file is quoted-printable: {grepped}");

    let listed = mail(&["mail", "list"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines.iter().any(|l| l.contains("newcomer@rigmarket.test\tConfirm your email for rigmarket")), "{listed}");
    let only_newcomer = mail(&["mail", "list", "--to", "NEWCOMER@rigmarket.test"]);
    assert_eq!(only_newcomer.lines().count(), 1, "{only_newcomer}");
    let id = only_newcomer.split('\t').next().unwrap();

    let shown = mail(&["mail", "show", "latest", "--to", "newcomer@rigmarket.test"]);
    assert!(shown.contains("Subject: Confirm your email for rigmarket"), "{shown}");
    assert!(shown.contains("Hello Newcomer,"), "the text body is decoded: {shown}");
    assert!(!shown.contains("=3D"), "{shown}");
    let token = printed_link_token(&shown, "/verify-email").unwrap_or_else(|| panic!("no link line in {shown}"));
    assert_eq!(printed_link_token(&mail(&["mail", "show", id]), "/verify-email").as_deref(), Some(token.as_str()));

    let bad = app.post_json("/v1/auth/verify-email", None, &serde_json::json!({ "token": grepped })).await;
    assert_eq!(bad.status().as_u16(), 422, "the grepped token does not verify");
    let verified = app.post_json("/v1/auth/verify-email", None, &serde_json::json!({ "token": token })).await;
    assert_eq!(verified.status().as_u16(), 204);
    let unknown = run(command(&app.direct_database_url, dir.path()).env("RIGMARKET_MAIL_DIR", &mail_dir).args([
        "mail",
        "show",
        "no-such-id",
    ]));
    assert_eq!(unknown.status.code(), Some(1));
}
