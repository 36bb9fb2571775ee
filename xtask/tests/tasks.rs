//! `cargo xtask demo` (the README's first command) and `cargo xtask verify-date` (what cron
//! jobs run), end to end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use elexon_sim::{SimConfig, Simulator};
use reingest::app::AppSettings;
use reingest::{NoProgress, RunOptions};

fn xtask() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.env_remove("RUST_LOG");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_reingests_and_verifies_three_dates_offline() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let o = xtask()
        .args(["demo", "--db", db.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for (date, periods) in [
        ("2024-03-21", "48"),
        ("2024-03-31", "46"),
        ("2024-10-27", "50"),
    ] {
        let line = out.lines().find(|l| l.starts_with(date)).unwrap();
        assert!(
            line.contains(periods) && line.ends_with("yes (and matches the API)"),
            "{line}"
        );
    }
    assert!(db.exists());
    assert!(dir.path().join("demo.db.archive").is_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_date_behaves_like_reingest_verify() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut settings = AppSettings::new(url.clone(), sim.base_url());
    settings.difficulty_url = sim.difficulty_url();
    let pipeline = settings.build().await.unwrap();
    let date = "2024-03-21".parse().unwrap();
    pipeline
        .run(&RunOptions::new(date), &NoProgress)
        .await
        .unwrap();

    let run = |args: Vec<&'static str>| {
        let mut cmd = xtask();
        cmd.env("DATABASE_URL", &url)
            .env("ELEXON_BASE_URL", sim.base_url())
            .env("REINGEST_DIFFICULTY_URL", sim.difficulty_url())
            .arg("verify-date")
            .args(args);
        cmd
    };
    let o = run(vec!["2024-03-21", "--against-api", "--json"])
        .output()
        .await
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["date"], "2024-03-21");
    assert_eq!(v["verification"]["ok"], true);
    assert!(v["energy_mwh"].is_string());

    let o = run(vec!["2024-03-22"]).output().await.unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "a date never reingested does not verify"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("periods_fetched"));

    let o = run(vec!["2024-02-30"]).output().await.unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("2024-02-30"),
        "{err}"
    );
}
