//! The `elexon-sim` binary prints its address and its difficulty feed's, and serves on both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::Duration;

use settlement_model::{SettlementDate, Side, StackItem};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The simulator's binary started with `args`, its stdout's lines, and the first of them.
async fn start(
    args: &[&str],
) -> (
    tokio::process::Child,
    tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    String,
) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_elexon-sim"))
        .args(args)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the simulator printed nothing in 30 s")
        .unwrap()
        .unwrap();
    (child, lines, first)
}

#[tokio::test]
async fn binary_prints_its_address_and_serves() {
    let (mut child, mut lines, line) =
        start(&["--port", "0", "--seed", "3", "--latency-ms", "1"]).await;
    let base = line.strip_prefix("listening on ").unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    assert!(base.ends_with("/bmrs/api/v1"), "{line}");
    let body = reqwest::get(format!(
        "{base}/balancing/settlement/stack/all/offer/2024-10-27/49?format=json"
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let items: Vec<StackItem> = elexon_sim::wire::stack_json_items(&body).unwrap();
    let d: SettlementDate = "2024-10-27".parse().unwrap();
    assert_eq!(
        items,
        elexon_sim::data::stack_items(3, d, 49, Side::Offer, 0)
    );
    let line = lines.next_line().await.unwrap().unwrap();
    let feed = line.strip_prefix("difficulty feed on ").unwrap();
    let body = reqwest::get(feed).await.unwrap().text().await.unwrap();
    let entries: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert!(
        !entries.is_empty(),
        "the feed serves difficulty adjustments"
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn binary_serves_a_unit_list_from_a_file() {
    let dir = std::env::temp_dir().join(format!("elexon-sim-units-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("units.json");
    let list = r#"[{"elexonBmUnit": null, "nationalGridBmUnit": "ACHYW-1", "fuelType": "WIND"}]"#;
    std::fs::write(&file, list).unwrap();
    let file_arg = file.to_str().unwrap();
    let (mut child, _lines, line) = start(&["--port", "0", "--bm-units", file_arg]).await;
    let base = line.strip_prefix("listening on ").unwrap();
    let body = reqwest::get(format!("{base}/reference/bmunits/all"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, list);
    child.kill().await.unwrap();

    // A file that cannot be read: exit 2, said on stderr.
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_elexon-sim"))
        .args(["--port", "0", "--bm-units"])
        .arg(dir.join("absent.json"))
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("absent.json"));
    std::fs::remove_dir_all(&dir).unwrap();
}
