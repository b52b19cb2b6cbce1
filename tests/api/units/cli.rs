//! `rigmarket units import`: a CSV file registered whole or not at all, with
//! the same row-level report as the API.

use std::process::Command;

use super::*;

fn import(
    url: &str,
    dir: &std::path::Path,
    listing: &str,
    file: &std::path::Path,
    dry_run: bool,
) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rigmarket"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("RIGMARKET_MAIL_DIR", dir.join("mail"))
        .env("RIGMARKET_STORAGE_DIR", dir.join("storage"))
        .env("RUST_LOG", "warn")
        .args(["units", "import", "--listing", listing])
        .arg(file);
    if dry_run {
        cmd.arg("--dry-run");
    }
    cmd.output().expect("run rigmarket")
}

fn csv_file(dir: &std::path::Path, name: &str, rows: usize, bad_line: Option<usize>) -> std::path::PathBuf {
    let mut text = String::from("serial,mac,grade,hashboards_working,hashboard_serials,notes\n");
    for i in 1..rows {
        let line = i + 1;
        let mac = if Some(line) == bad_line {
            "not-a-mac".to_string()
        } else {
            format!("A4:5E:60:00:{:02X}:{:02X}", i / 256, i % 256)
        };
        text.push_str(&format!("csv-{i:05},{mac},B,3,HB{i}A;HB{i}B;HB{i}C,\n"));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn a_csv_with_a_bad_row_at_line_4000_is_refused_whole_and_a_good_one_imports() {
    let app = TestApp::builder().spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let lot = draft_lot(&app, &seller, 4_999).await;
    let dir = tempfile::tempdir().unwrap();
    let url = &app.direct_database_url;

    let bad = csv_file(dir.path(), "bad.csv", 5_000, Some(4_000));
    let output = import(url, dir.path(), &lot, &bad, false);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 4000: mac"), "{stderr}");
    assert!(stderr.contains("[mac_invalid]") && stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(unit_count(&app).await, 0);

    let good = csv_file(dir.path(), "good.csv", 5_000, None);
    let dry = import(url, dir.path(), &lot, &good, true);
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    assert!(String::from_utf8_lossy(&dry.stdout).contains("dry run"));
    assert_eq!(unit_count(&app).await, 0, "a dry run writes nothing");

    let real = import(url, dir.path(), &lot, &good, false);
    assert!(real.status.success(), "{}", String::from_utf8_lossy(&real.stderr));
    assert!(String::from_utf8_lossy(&real.stdout).contains("imported 4999 unit(s)"));
    assert_eq!(unit_count(&app).await, 4_999);
    let (_, page) = get_as(&app, &format!("/v1/listings/{lot}/units?limit=1"), Some(&seller)).await;
    let units = page["items"].as_array().unwrap();
    assert_eq!(units[0]["serial"], "CSV-00001");
    assert_eq!(units[0]["hashboard_serials"], json!(["HB1A", "HB1B", "HB1C"]));

    // Again: every row is now already in the lot.
    let again = import(url, dir.path(), &lot, &good, false);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("line 2: serial"));
}
