//! The `reingest` binary as operators and scripts use it: exit codes, one-line errors, the
//! `--json` documents, and every command against the in-process simulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Output;

use common::{backends, sim, TestDb};
use elexon_sim::{Fault, FaultRule, SimHandle};
use serde_json::Value;

async fn reingest(sim: Option<&SimHandle>, db: &str, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_reingest"));
    cmd.env_remove("RUST_LOG")
        .env("DATABASE_URL", db)
        .env("ELEXON_BASE_URL", "http://127.0.0.1:1/bmrs/api/v1")
        .env("REINGEST_DIFFICULTY_URL", "http://127.0.0.1:1/difficulty")
        .args(["--max-attempts", "2", "--timeout-secs", "5"])
        .args(args);
    if let Some(sim) = sim {
        cmd.env("ELEXON_BASE_URL", sim.base_url())
            .env("REINGEST_DIFFICULTY_URL", sim.difficulty_url());
    }
    cmd.output().await.unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

/// The last stderr line is the error, on one line, with no panic or backtrace.
fn assert_one_line_error(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "exactly one error line: {err}");
    assert!(errors[0].contains(needle), "{needle:?} not in {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_one_line_exit_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("never.db");
    let db = format!("sqlite://{}", path.display());
    for (args, needle) in [
        (vec!["run", "2024-02-30"], "\"2024-02-30\""),
        (vec!["run", "21/03/2024"], "YYYY-MM-DD"),
        (vec!["run", "2024-13-01"], "no such calendar day"),
        (vec!["run", ""], "empty"),
        (
            vec!["run", "2024-03-21", "--periods", "49"],
            "period 49 does not exist on 2024-03-21",
        ),
        (
            vec!["run", "2024-03-31", "--periods", "45-47"],
            "periods 1-46",
        ),
        (
            vec!["run", "2024-03-21", "--periods", "4-1"],
            "after the last",
        ),
        (
            vec!["run", "2024-03-21", "--difficulty=-5"],
            "must be positive",
        ),
        (
            vec!["--miners", "S19J_PRO,ANTMINER_X", "run", "2024-03-21"],
            "S19J_PRO",
        ),
        (vec!["range", "2024-03-02", "2024-03-01"], "after it ends"),
        (vec!["verify", "yesterday"], "\"yesterday\""),
    ] {
        let o = reingest(None, &db, &args).await;
        assert_one_line_error(&o, 2, needle);
    }
    assert!(
        !path.exists(),
        "bad input must not create or touch the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_database_and_api_are_exit_2_without_secrets() {
    let o = reingest(
        None,
        "postgres://op:hunter2@127.0.0.1:1/platform",
        &["verify", "2024-03-21"],
    )
    .await;
    assert_one_line_error(&o, 2, "database");
    assert!(!stderr(&o).contains("hunter2"), "{}", stderr(&o));

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let o = reingest(None, &db, &["run", "2024-03-21"]).await;
    assert_one_line_error(&o, 2, "");
    // Scripts using --json get one JSON document on stdout for an error too.
    let o = reingest(None, &db, &["--json", "run", "2024-03-21"]).await;
    assert_one_line_error(&o, 2, "");
    let doc = json(&o);
    assert_eq!(doc["exit_code"], 2);
    assert!(
        doc["error"].as_str().unwrap().contains("127.0.0.1:1"),
        "{doc}"
    );
    let o = reingest(None, &db, &["--json", "runs"]).await;
    assert_eq!(o.status.code(), Some(0));
    let runs = json(&o);
    assert!(runs
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] != "committed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_api_that_is_not_loopback_needs_a_flag() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_reingest"));
    let o = cmd
        .env("DATABASE_URL", &db)
        .args([
            "--elexon-url",
            "http://data.example.com/bmrs/api/v1",
            "verify",
            "2024-03-21",
        ])
        .output()
        .await
        .unwrap();
    assert_one_line_error(&o, 2, "http");
}

async fn full_session(sim: &SimHandle, db: &TestDb) {
    let url = db.url.as_str();
    // run --json: the documented contract of the README.
    let o = reingest(
        Some(sim),
        url,
        &["--json", "run", "2024-10-27", "--reason", "ticket 1"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run = json(&o);
    assert_eq!(run["date"], "2024-10-27");
    assert_eq!(run["periods_expected"], 50);
    assert_eq!(run["periods_fetched"], 50);
    assert!(run["energy_mwh"].is_string() && run["payment_gbp"].is_string());
    for m in ["S19J_PRO", "S9", "M20S"] {
        assert!(run["bitcoin"][m].is_string(), "{m}");
    }
    assert_eq!(run["verification"]["ok"], true);
    assert!(run["verification"]["checks"].as_array().unwrap().len() >= 8);
    let run_id = run["run_id"].as_str().unwrap().to_owned();
    assert!(
        stderr(&o).contains("BM unit registry is empty"),
        "first use says it fills the registry"
    );

    // verify --json agrees.
    let o = reingest(
        Some(sim),
        url,
        &["--json", "verify", "2024-10-27", "--against-api"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["energy_mwh"], run["energy_mwh"]);
    assert_eq!(v["records"], run["records"]);
    assert_eq!(v["bitcoin"], run["bitcoin"]);

    // A mismatch is exit 1 and changes nothing.
    let o = reingest(
        Some(sim),
        url,
        &["run", "2024-10-27", "--expect-energy", "0.5"],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("ROLLED BACK"));

    // The audit log, and a restore of the first run.
    let o = reingest(Some(sim), url, &["--json", "runs", "--date", "2024-10-27"]).await;
    let runs = json(&o);
    let statuses: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["rolled_back", "committed"]);
    assert_eq!(runs[1]["reason"], "ticket 1");
    let o = reingest(Some(sim), url, &["--json", "restore", &run_id]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Dry run of a few periods: per-period before/after, nothing written.
    let o = reingest(
        Some(sim),
        url,
        &["run", "2024-10-28", "--periods", "1-4", "--dry-run"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("dry run (nothing written)"), "{text}");
    let o = reingest(Some(sim), url, &["--json", "verify", "2024-10-28"]).await;
    assert_eq!(
        o.status.code(),
        Some(1),
        "an unreingested day does not verify"
    );
    assert_eq!(json(&o)["records"], 0);

    // Reference data commands.
    let o = reingest(Some(sim), url, &["--json", "bmu", "list", "--wind"]).await;
    assert!(json(&o)
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["fuelType"] == "WIND"));
    let o = reingest(
        Some(sim),
        url,
        &["difficulty", "set", "2030-01-01", "123456789"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = reingest(Some(sim), url, &["--json", "difficulty", "sync"]).await;
    assert!(json(&o)["difficulty_entries"].as_u64().unwrap() > 100);
    let o = reingest(Some(sim), url, &["migrate"]).await;
    assert_eq!(o.status.code(), Some(0));

    // The registry and difficulty from files, and from the API again.
    let dir = tempfile::tempdir().unwrap();
    let units = dir.path().join("units.json");
    std::fs::write(
        &units,
        r#"[{"elexonBmUnit":"T_ONE-1","nationalGridBmUnit":"ONE-1","bmUnitName":"One","leadPartyName":"O'Brien; Wind \"Ltd\"","fuelType":"WIND","generationCapacity":"12.5"}]"#,
    )
    .unwrap();
    let o = reingest(
        Some(sim),
        url,
        &["--json", "bmu", "import", units.to_str().unwrap()],
    )
    .await;
    assert_eq!(json(&o)["bm_units"], 1, "{}", stderr(&o));
    let o = reingest(Some(sim), url, &["--json", "bmu", "list"]).await;
    assert_eq!(json(&o)[0]["leadPartyName"], "O'Brien; Wind \"Ltd\"");
    let o = reingest(Some(sim), url, &["--json", "bmu", "sync"]).await;
    assert!(
        json(&o)["bm_units"].as_u64().unwrap() > 40,
        "{}",
        stderr(&o)
    );
    let csv = dir.path().join("difficulty.csv");
    std::fs::write(
        &csv,
        "date,difficulty\n2031-01-01,1000000\n2031-02-01,2000000\n",
    )
    .unwrap();
    let o = reingest(
        Some(sim),
        url,
        &["--json", "difficulty", "import", csv.to_str().unwrap()],
    )
    .await;
    assert_eq!(json(&o)["difficulty_entries"], 2, "{}", stderr(&o));

    // A range, then reconcile finds nothing to do; diff and prune read the archive.
    let o = reingest(
        Some(sim),
        url,
        &["--json", "range", "2024-10-28", "2024-10-29", "--jobs", "2"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let range = json(&o);
    assert_eq!(range["dates"].as_array().unwrap().len(), 2);
    assert!(range["dates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["status"] == "ok"));
    let o = reingest(
        Some(sim),
        url,
        &["--json", "reconcile", "2024-10-28", "2024-10-29"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["findings"].as_array().unwrap().len(), 0);
    let o = reingest(Some(sim), url, &["--json", "run", "2024-10-28"]).await;
    assert_eq!(o.status.code(), Some(0));
    let o = reingest(Some(sim), url, &["--json", "diff", "2024-10-28"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        json(&o)["periods"].as_array().unwrap().len(),
        0,
        "same sources, no differences"
    );
    let o = reingest(
        Some(sim),
        url,
        &["--json", "archive", "prune", "--keep-last", "1"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(json(&o)["runs_kept"].as_u64().unwrap() >= 3);
    let o = reingest(
        Some(sim),
        url,
        &["--json", "run", "2024-10-28", "--from-archive"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run_id = json(&o)["run_id"].as_str().unwrap().to_owned();
    let o = reingest(
        Some(sim),
        url,
        &[
            "--json",
            "run",
            "2024-10-28",
            "--from-archive",
            &run_id,
            "--as-recorded",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // The run's document: Markdown on stdout, HTML to a file, JSON.
    let o = reingest(Some(sim), url, &["report", "2024-10-28"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("# Reingestion of 2024-10-28"));
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("r.html");
    let o = reingest(
        Some(sim),
        url,
        &[
            "report",
            &run_id,
            "--format",
            "html",
            "--output",
            page.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("<rect class=\"before\"").count(), 48);
    let o = reingest(Some(sim), url, &["--json", "report", "2024-10-28"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(json(&o)["evidence"]["fingerprint"]["total"].is_string());
    // The wire format still goes before the command.
    let o = reingest(Some(sim), url, &["--format", "json", "--json", "runs"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(json(&o)[0]["fingerprint"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_end_to_end_on_every_backend() {
    let sim = sim().await;
    for db in backends() {
        full_session(&sim, &db).await;
    }
}

/// Unpublished is not zero, through the binary: a day whose every stack is `{"data": []}`
/// is exit 2 naming the periods, with nothing written; with `--allow-missing-periods` it is
/// stored as incomplete and `verify` exits 1. A date after today is exit 2 before any
/// request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpublished_day_is_refused_or_stored_incomplete_never_zero() {
    let sim = sim().await;
    for db in backends() {
        let url = &db.url;
        sim.add_fault(FaultRule::new(Fault::EmptyStack).date("2024-05-05".parse().unwrap()));
        let o = reingest(Some(&sim), url, &["run", "2024-05-05"]).await;
        assert_one_line_error(
            &o,
            2,
            "2024-05-05 periods 1-48: not published by the API (both stacks empty)",
        );
        let o = reingest(Some(&sim), url, &["--json", "verify", "2024-05-05"]).await;
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_eq!(json(&o)["records"], 0, "nothing was stored");
        let o = reingest(
            Some(&sim),
            url,
            &["run", "2024-05-05", "--allow-missing-periods"],
        )
        .await;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let o = reingest(Some(&sim), url, &["--json", "verify", "2024-05-05"]).await;
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let v = json(&o);
        let failed: Vec<&str> = v["verification"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["ok"] == false)
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(failed, ["periods_fetched"], "{v}");
        sim.clear_faults();

        let later = (chrono::Utc::now() + chrono::Duration::days(2))
            .date_naive()
            .to_string();
        let before = sim.stats();
        let o = reingest(Some(&sim), url, &["run", &later]).await;
        assert_one_line_error(&o, 2, &format!("{later} is after today"));
        assert_eq!(sim.stats(), before, "no request at all");
    }
}

/// The operator's offline flow: the difficulty feed unreachable, `difficulty import` of a
/// plain date → value map (no block heights), then `run`, for dates after the 2024 halving.
/// Within 1,100 days of it the subsidy is certain without heights.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn difficulty_import_of_a_date_map_then_run_works_after_the_2024_halving() {
    let sim = sim().await;
    let offline = [("REINGEST_DIFFICULTY_URL", "http://127.0.0.1:1/difficulty")];
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("difficulty.json");
    std::fs::write(
        &map,
        r#"{"2024-07-10": "79500000000000", "2024-07-24": "82000000000000",
            "2024-12-01": "102290000000000", "2024-12-15": "103920000000000"}"#,
    )
    .unwrap();
    for db in backends() {
        let url = &db.url;
        let o = piped(
            Some(&sim),
            url,
            &offline,
            &["difficulty", "import", map.to_str().unwrap()],
        )
        .await;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        for date in ["2024-07-18", "2024-12-07"] {
            let o = piped(Some(&sim), url, &offline, &["--json", "run", date]).await;
            assert_eq!(o.status.code(), Some(0), "{date}: {}", stderr(&o));
            assert_eq!(json(&o)["verification"]["ok"], true, "{date}");
        }
    }
    // The platform's real 2024 map, when the shared data is beside the repository.
    let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/difficulty-2024.json");
    if !real.exists() {
        eprintln!(
            "skipped: {} is absent (a clone without ../shared)",
            real.display()
        );
        return;
    }
    let db = common::sqlite();
    let o = piped(
        Some(&sim),
        &db.url,
        &offline,
        &["difficulty", "import", real.to_str().unwrap()],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for date in ["2024-04-21", "2024-07-18", "2024-12-07"] {
        let o = piped(Some(&sim), &db.url, &offline, &["--json", "run", date]).await;
        assert_eq!(o.status.code(), Some(0), "{date}: {}", stderr(&o));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_teaches_with_examples() {
    for args in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["range", "--help"],
        vec!["verify", "--help"],
    ] {
        let o = reingest(None, "sqlite::memory:", &args).await;
        assert_eq!(o.status.code(), Some(0));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("Example"), "{args:?}: {text}");
    }
    // JSON is the default wire format, and the help says so.
    let o = reingest(None, "sqlite::memory:", &["--help"]).await;
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("[env: ELEXON_FORMAT=]") || help.contains("ELEXON_FORMAT"),
        "{help}"
    );
    assert!(help.contains("[default: json]"), "{help}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_defined_miner_models_from_the_command_line_and_a_file() {
    let sim = sim().await;
    let db = common::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("miners.txt");
    std::fs::write(&file, "# our fleet\nS21:200:3500\nM60:172:3344\n").unwrap();
    let models = format!("@{}", file.display());
    let o = reingest(
        Some(&sim),
        &db.url,
        &["--json", "--miner-models", &models, "run", "2024-03-21"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run = json(&o);
    let names: Vec<&String> = run["bitcoin"].as_object().unwrap().keys().collect();
    assert_eq!(names, vec!["M20S", "M60", "S19J_PRO", "S21", "S9"]);
    let o = reingest(
        Some(&sim),
        &db.url,
        &[
            "--json",
            "--miner-models",
            "S21:200:3500",
            "--miners",
            "S21",
            "verify",
            "2024-03-21",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(json(&o)["bitcoin"]["S21"].is_string());
    let o = reingest(
        Some(&sim),
        &db.url,
        &["--miner-models", "S21:200", "verify", "2024-03-21"],
    )
    .await;
    assert_one_line_error(&o, 2, "S21:200");
}

/// Runs `reingest ARGS` as cron or CI would: stdout and stderr piped, `NO_COLOR` unset.
async fn piped(sim: Option<&SimHandle>, db: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = common::reingest_cmd(sim, db);
    cmd.env_remove("NO_COLOR")
        .args(["--max-attempts", "2", "--timeout-secs", "5"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.args(args).spawn().unwrap();
    tokio::time::timeout(
        std::time::Duration::from_secs(120),
        child.wait_with_output(),
    )
    .await
    .unwrap()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_output_has_no_colour_codes_and_every_line_ends() {
    let sim = sim().await;
    let db = common::sqlite();
    // Info lines (first use fills the registry), then retry warnings and an error.
    let ok = piped(Some(&sim), &db.url, &[], &["run", "2024-03-21"]).await;
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    sim.add_fault(FaultRule::new(Fault::ServerError).period(3));
    let failed = piped(Some(&sim), &db.url, &[], &["run", "2024-03-21"]).await;
    assert_one_line_error(&failed, 2, "period 3");
    sim.clear_faults();
    let err = stderr(&failed);
    assert!(err.contains("attempt 1/2"), "a retry warning: {err}");
    for o in [&ok, &failed] {
        let err = stderr(o);
        assert!(!err.is_empty());
        assert!(
            !err.contains("\x1b["),
            "colour codes in piped stderr: {err:?}"
        );
        assert!(!String::from_utf8_lossy(&o.stdout).contains('\x1b'));
    }
    // One short warning per retry, the target named once, the URL only at debug level.
    for line in err.lines().filter(|l| l.contains("attempt 1/2")) {
        assert_eq!(line.matches("period 3").count(), 1, "{line}");
        assert!(!line.contains("http://"), "{line}");
        assert!(line.len() < 240, "{line}");
    }
    let error = err.lines().find(|l| l.starts_with("error: ")).unwrap();
    assert_eq!(error.matches("period 3").count(), 1, "{error}");
    // Every command's text ends with a newline, so a script's commands print line by line.
    for args in [
        vec!["migrate"],
        vec!["bmu", "sync"],
        vec!["difficulty", "set", "2030-01-01", "123"],
        vec!["runs"],
        vec!["verify", "2024-03-21"],
    ] {
        let o = piped(Some(&sim), &db.url, &[], &args).await;
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.ends_with(b"\n"), "{args:?}: {:?}", o.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_in_api_and_difficulty_urls_are_redacted() {
    let db = common::sqlite();
    let sim = sim().await;
    // The simulator ignores the credentials; every stack answers 500.
    sim.add_fault(FaultRule::new(Fault::ServerError));
    let keyed = sim.base_url().replacen("http://", "http://user:pw@", 1) + "?APIKey=SECRET";
    for (what, env, args) in [
        (
            "unreachable API",
            vec![],
            vec![
                "--elexon-url",
                "http://user:pw@127.0.0.1:1/bmrs/api/v1?APIKey=SECRET",
                "run",
                "2024-03-21",
            ],
        ),
        (
            "failing API",
            vec![],
            vec![
                "--elexon-url",
                &keyed,
                "run",
                "2024-03-21",
                "--difficulty",
                "1",
            ],
        ),
        (
            "failing API, debug logs",
            vec![("RUST_LOG", "debug")],
            vec![
                "--elexon-url",
                &keyed,
                "run",
                "2024-03-21",
                "--difficulty",
                "1",
            ],
        ),
        (
            "difficulty feed",
            vec![],
            vec![
                "difficulty",
                "sync",
                "--url",
                "http://user:pw@127.0.0.1:1/difficulty?token=SECRET",
            ],
        ),
        (
            "insecure URL",
            vec![],
            vec![
                "--elexon-url",
                "http://user:pw@api.example.com/v1?key=SECRET",
                "run",
                "2024-03-21",
            ],
        ),
    ] {
        let o = piped(Some(&sim), &db.url, &env, &args).await;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains("error: "), "{what}: {err}");
        assert!(!err.contains("Usage:"), "{what}: the command ran: {err}");
        assert!(
            err.contains("127.0.0.1") || err.contains("api.example.com"),
            "{what}: the URL is named: {err}"
        );
        assert!(!err.contains("SECRET"), "{what}: {err}");
        assert!(!err.contains("pw"), "{what}: {err}");
        assert!(!String::from_utf8_lossy(&o.stdout).contains("SECRET"));
    }
    // The key really reaches the API: without faults the keyed URL works.
    sim.clear_faults();
    let o = piped(
        Some(&sim),
        &db.url,
        &[],
        &["--elexon-url", &keyed, "run", "2024-03-21"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Parses a Prometheus textfile: every sample is `name{labels} value` with a float value,
/// and every metric has its `# HELP` and `# TYPE` lines. Returns `(name, labels, value)`.
fn parse_metrics(text: &str) -> Vec<(String, String, f64)> {
    let mut helped = std::collections::HashSet::new();
    let mut typed = std::collections::HashSet::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.insert(rest.split_once(' ').unwrap().0.to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["gauge", "counter"].contains(&kind), "{line}");
            typed.insert(name.to_owned());
        } else {
            let (name, rest) = line.split_once('{').unwrap_or_else(|| panic!("{line:?}"));
            let (labels, value) = rest.rsplit_once("} ").unwrap_or_else(|| panic!("{line:?}"));
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
            let value: f64 = value.parse().unwrap_or_else(|e| panic!("{line}: {e}"));
            samples.push((name.to_owned(), labels.to_owned(), value));
        }
    }
    assert!(!samples.is_empty(), "{text}");
    for (name, _, _) in &samples {
        assert!(
            helped.contains(name) && typed.contains(name),
            "{name}: {text}"
        );
    }
    samples
}

fn sample(samples: &[(String, String, f64)], name: &str) -> Option<f64> {
    samples.iter().find(|s| s.0 == name).map(|s| s.2)
}

/// Issue 12's budget: one `reingest run` of the stormy day (a re-ingest, so the swap backs
/// up and replaces a full day) sends at most 60 statements to PostgreSQL, counted by the
/// binary's connections and reported in its metrics file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_live_run_of_a_stormy_day_sends_at_most_60_statements_to_postgres() {
    let Some(db) = common::postgres() else {
        return;
    };
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.prom");
    let file = path.to_str().unwrap();
    for args in [
        &["bmu", "sync"][..],
        &["difficulty", "sync"],
        &["run", "2024-12-05"],
    ] {
        let o = piped(Some(&sim), &db.url, &[], args).await;
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    }
    let o = piped(
        Some(&sim),
        &db.url,
        &[],
        &["--metrics-file", file, "--json", "run", "2024-12-05"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run = json(&o);
    assert!(
        run["records"].as_u64().unwrap() > 1_000,
        "the stormy day: {run}"
    );
    let samples = parse_metrics(&std::fs::read_to_string(&path).unwrap());
    let n = sample(&samples, "reingest_run_db_statements").unwrap();
    eprintln!("one live run of 2024-12-05 sent {n} statements to PostgreSQL");
    assert!(n > 10.0, "the counter counts ({n})");
    assert!(n <= 60.0, "{n} statements for one run (at most 60)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_file_after_a_run_a_failure_and_a_range() {
    let sim = sim().await;
    let db = common::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reingest.prom");
    let file = path.to_str().unwrap();

    let o = piped(
        Some(&sim),
        &db.url,
        &[],
        &["--metrics-file", file, "--json", "run", "2024-03-21"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run = json(&o);
    let text = std::fs::read_to_string(&path).unwrap();
    let samples = parse_metrics(&text);
    assert_eq!(sample(&samples, "reingest_last_run_success"), Some(1.0));
    assert!(sample(&samples, "reingest_last_run_timestamp_seconds").unwrap() > 1.7e9);
    assert!(sample(&samples, "reingest_run_duration_seconds").is_some());
    assert_eq!(
        sample(&samples, "reingest_run_records"),
        run["records"].as_f64()
    );
    // Energy and payment are written as the report's exact decimal text.
    let energy = run["energy_mwh"].as_str().unwrap();
    assert!(text.contains(&format!("}} {energy}\n")), "{energy}: {text}");
    assert!(sample(&samples, "reingest_run_api_requests").unwrap() >= 96.0);
    assert_eq!(sample(&samples, "reingest_run_api_retries"), Some(0.0));
    assert!(
        samples
            .iter()
            .all(|s| s.1 == r#"command="run",date="2024-03-21",from="",to="""#),
        "{text}"
    );
    let entries = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(entries, 1, "only the metrics file, no temporary one");

    // A failing command writes them too, with success 0 and its retries.
    sim.add_fault(FaultRule::new(Fault::ServerError).period(5));
    let o = piped(
        Some(&sim),
        &db.url,
        &[("REINGEST_METRICS_FILE", file)],
        &["run", "2024-03-22"],
    )
    .await;
    assert_one_line_error(&o, 2, "period 5");
    let samples = parse_metrics(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(sample(&samples, "reingest_last_run_success"), Some(0.0));
    assert_eq!(sample(&samples, "reingest_last_run_exit_code"), Some(2.0));
    assert!(sample(&samples, "reingest_run_api_retries").unwrap() >= 1.0);
    assert_eq!(
        sample(&samples, "reingest_run_records"),
        None,
        "nothing was counted"
    );

    // A range: from/to labels, and its failed dates.
    sim.clear_faults();
    sim.add_fault(FaultRule::new(Fault::ServerError).date(common::d("2024-03-23")));
    let o = piped(
        Some(&sim),
        &db.url,
        &[],
        &["--metrics-file", file, "range", "2024-03-22", "2024-03-23"],
    )
    .await;
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    let samples = parse_metrics(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(sample(&samples, "reingest_run_failed_dates"), Some(1.0));
    assert!(samples[0]
        .1
        .contains(r#"command="range",date="",from="2024-03-22",to="2024-03-23""#));

    // A metrics folder that does not exist fails before any work.
    let o = piped(
        Some(&sim),
        &db.url,
        &[],
        &["--metrics-file", "/nonexistent/dir/x.prom", "migrate"],
    )
    .await;
    assert_one_line_error(&o, 2, "does not exist");
    let o = piped(
        Some(&sim),
        &db.url,
        &[],
        &[
            "--json",
            "--metrics-file",
            "/nonexistent/dir/x.prom",
            "migrate",
        ],
    )
    .await;
    assert_eq!(
        json(&o)["exit_code"],
        2,
        "--json gets its error document too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_reads_a_limited_page_of_the_audit_log() {
    let sim = sim().await;
    let db = common::sqlite();
    for date in ["2024-03-21", "2024-03-22"] {
        let o = reingest(Some(&sim), &db.url, &["run", date]).await;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let count = |o: &Output| json(o).as_array().unwrap().len();
    let o = reingest(Some(&sim), &db.url, &["--json", "runs"]).await;
    assert_eq!(count(&o), 2);
    let o = reingest(Some(&sim), &db.url, &["--json", "runs", "--limit", "1"]).await;
    assert_eq!(json(&o)[0]["settlement_date"], "2024-03-22", "the newest");
    assert_eq!(count(&o), 1);
    let o = reingest(Some(&sim), &db.url, &["runs", "--limit", "1"]).await;
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("the newest 1 runs; --limit N"), "{text}");
    let o = reingest(
        Some(&sim),
        &db.url,
        &["--json", "runs", "--since", "2099-01-01"],
    )
    .await;
    assert_eq!(count(&o), 0);
    let o = reingest(
        Some(&sim),
        &db.url,
        &[
            "--json",
            "runs",
            "--since",
            "2001-01-01",
            "--date",
            "2024-03-21",
        ],
    )
    .await;
    assert_eq!(count(&o), 1);
    let o = reingest(Some(&sim), &db.url, &["runs", "--limit", "0"]).await;
    assert_one_line_error(&o, 2, "--limit must be at least 1");
    let o = reingest(Some(&sim), &db.url, &["runs", "--since", "last week"]).await;
    assert_one_line_error(&o, 2, "\"last week\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_shared_postgres_only_migrate_changes_the_schema() {
    let Some(db) = common::postgres_unmigrated() else {
        return;
    };
    let tables = |url: &str| {
        use diesel::{Connection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut c = diesel::PgConnection::establish(url).unwrap();
        diesel::sql_query(
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .load::<N>(&mut c)
        .unwrap()[0]
            .n
    };
    assert_eq!(tables(&db.url), 0);

    // A read command on an unmigrated database: exit 2 naming `reingest migrate`, no table.
    let o = reingest(None, &db.url, &["verify", "2024-03-21"]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("reingest migrate"), "{}", stderr(&o));
    assert_eq!(tables(&db.url), 0);

    // The dry run prints the SQL, with the platform tables' indexes built CONCURRENTLY.
    let o = reingest(None, &db.url, &["migrate", "--dry-run"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sql = String::from_utf8_lossy(&o.stdout);
    assert!(
        sql.contains("CREATE TABLE IF NOT EXISTS curtailment_records"),
        "{sql}"
    );
    assert!(
        sql.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS curtailment_records_date_period_idx")
    );
    assert_eq!(tables(&db.url), 0);

    // `migrate` does it; then other commands work, and run nothing more.
    let o = reingest(None, &db.url, &["migrate"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = tables(&db.url);
    assert!(after > 10);
    let o = reingest(None, &db.url, &["runs"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = reingest(None, &db.url, &["migrate", "--dry-run"]).await;
    assert!(String::from_utf8_lossy(&o.stdout).contains("no pending migrations"));
    assert_eq!(tables(&db.url), after);
}

/// The done-when scenario of `status`: two verified dates, one incomplete (a 404 allowed by
/// `--allow-missing-periods`), one failed (every request a 500), one inconsistent (its daily
/// summary edited by hand, alone in its month so no other date's roll-up moves), the rest
/// never run. Returns the range and the dates that are not verified.
async fn status_scenario(sim: &SimHandle, db: &TestDb) -> (&'static str, &'static str) {
    let url = db.url.as_str();
    for args in [
        &["bmu", "sync"][..],
        &["difficulty", "sync"],
        &["run", "2024-03-28", "--reason", "ticket <9> & 'all'"],
        &["run", "2024-03-29"],
        &["run", "2024-04-03"],
    ] {
        let o = reingest(Some(sim), url, args).await;
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    }
    sim.add_fault(
        FaultRule::new(Fault::NotFound)
            .date(common::d("2024-03-30"))
            .period(10),
    );
    let o = reingest(
        Some(sim),
        url,
        &["run", "2024-03-30", "--allow-missing-periods"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    sim.clear_faults();
    sim.add_fault(FaultRule::new(Fault::ServerError).date(common::d("2024-03-31")));
    let o = reingest(Some(sim), url, &["run", "2024-03-31"]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    sim.clear_faults();
    common::sql(
        db,
        "UPDATE daily_summaries SET total_curtailed_energy = '1.5' WHERE summary_date = '2024-04-03'",
    );
    ("2024-03-28", "2024-04-06")
}

/// The states the scenario leaves, date by date.
const SCENARIO_STATES: [(&str, &str); 10] = [
    ("2024-03-28", "verified"),
    ("2024-03-29", "verified"),
    ("2024-03-30", "incomplete"),
    ("2024-03-31", "failed"),
    ("2024-04-01", "never_run"),
    ("2024-04-02", "never_run"),
    ("2024-04-03", "inconsistent"),
    ("2024-04-04", "never_run"),
    ("2024-04-05", "never_run"),
    ("2024-04-06", "never_run"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_each_state_in_every_form_and_reconcile_lists_the_rest() {
    let sim = sim().await;
    for db in backends() {
        let url = db.url.as_str();
        let (from, to) = status_scenario(&sim, &db).await;

        // JSON: one entry per date, with its state.
        let o = reingest(Some(&sim), url, &["--json", "status", from, to]).await;
        assert_eq!(
            o.status.code(),
            Some(1),
            "dates need attention: {}",
            stderr(&o)
        );
        let doc = json(&o);
        let days = doc["days"].as_array().unwrap();
        let got: Vec<(String, String)> = days
            .iter()
            .map(|d| {
                (
                    d["date"].as_str().unwrap().to_owned(),
                    d["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = SCENARIO_STATES
            .iter()
            .map(|(d, s)| ((*d).to_owned(), (*s).to_owned()))
            .collect();
        assert_eq!(got, want, "{}", db.name);
        let incomplete = &days[2];
        assert_eq!(incomplete["missing_periods"], serde_json::json!([10]));
        let inconsistent = &days[6];
        let failed: Vec<&str> = inconsistent["failed_checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert!(failed.contains(&"daily_matches_records"), "{failed:?}");
        assert!(days[0]["energy_mwh"].is_string(), "exact decimals in JSON");
        assert_eq!(days[0]["newest_run"]["reason"], "ticket <9> & 'all'");
        assert_eq!(days[3]["newest_run"]["status"], "failed");

        // Text: a table line per date and a summary line per state.
        let o = reingest(Some(&sim), url, &["status", from, to]).await;
        assert_eq!(o.status.code(), Some(1));
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        for (date, state) in SCENARIO_STATES {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(date) && l.contains(state)),
                "{date} {state} in\n{text}"
            );
        }
        assert!(text.contains("never_run       5"), "{text}");

        // Markdown and HTML files, by extension.
        let dir = tempfile::tempdir().unwrap();
        for ext in ["md", "html", "json"] {
            let path = dir.path().join(format!("health.{ext}"));
            let o = reingest(
                Some(&sim),
                url,
                &["status", from, to, "--output", path.to_str().unwrap()],
            )
            .await;
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
            assert!(o.stdout.is_empty(), "the file holds the report");
            let body = std::fs::read_to_string(&path).unwrap();
            for (date, state) in SCENARIO_STATES {
                assert!(body.contains(date) && body.contains(state), "{ext}: {date}");
            }
            if ext == "html" {
                assert_eq!(body.matches("class=\"day s-").count(), 10);
                assert!(body.contains("data-date=\"2024-04-03\" data-state=\"inconsistent\""));
                assert!(body.contains("ticket &lt;9&gt; &amp; &#39;all&#39;"));
                assert!(body.contains("reingest run 2024-03-31 --reason"));
            }
        }
        let o = reingest(Some(&sim), url, &["status", from, to, "--output", "x.pdf"]).await;
        assert_one_line_error(&o, 2, ".md, .html, .json");

        // reconcile: exactly the dates that are not verified.
        let o = reingest(Some(&sim), url, &["--json", "reconcile", from, to]).await;
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let r = json(&o);
        let listed: Vec<&str> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["date"].as_str().unwrap())
            .collect();
        let not_verified: Vec<&str> = SCENARIO_STATES
            .iter()
            .filter(|(_, s)| *s != "verified")
            .map(|(d, _)| *d)
            .collect();
        assert_eq!(listed, not_verified, "{}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_years_status_sends_as_many_statements_as_a_months() {
    let Some(db) = common::postgres() else {
        return;
    };
    let sim = sim().await;
    status_scenario(&sim, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut counts = Vec::new();
    for (from, to) in [
        ("2024-03-28", "2024-04-06"),
        ("2024-03-01", "2024-03-31"),
        ("2024-01-01", "2024-12-31"),
    ] {
        let path = dir.path().join(format!("{from}.prom"));
        let o = piped(
            Some(&sim),
            &db.url,
            &[],
            &[
                "--metrics-file",
                path.to_str().unwrap(),
                "--json",
                "status",
                from,
                to,
            ],
        )
        .await;
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let samples = parse_metrics(&std::fs::read_to_string(&path).unwrap());
        let n = sample(&samples, "reingest_run_db_statements").unwrap();
        eprintln!("status {from}..{to} sent {n} statements to PostgreSQL");
        counts.push(n);
    }
    assert!(counts[0] > 5.0, "the counter counts ({counts:?})");
    assert!(
        counts.iter().all(|n| *n == counts[0]),
        "10 days, a month and a year send the same statements: {counts:?}"
    );
    assert!(counts[0] <= 35.0, "{counts:?}");
}

/// Chromium for the browser test: required when `REINGEST_TEST_CHROMIUM` is set (CI sets
/// it after installing Debian's `chromium`), else used when installed, else skipped.
fn chromium() -> Option<&'static str> {
    const BIN: &str = "/usr/bin/chromium";
    let required = std::env::var_os("REINGEST_TEST_CHROMIUM").is_some();
    if std::path::Path::new(BIN).exists() {
        Some(BIN)
    } else if required {
        panic!("REINGEST_TEST_CHROMIUM is set but {BIN} is missing");
    } else {
        eprintln!("skipped: no {BIN} (set REINGEST_TEST_CHROMIUM to require it)");
        None
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_months_status_page_renders_in_chromium() {
    let Some(chromium) = chromium() else {
        return;
    };
    let sim = sim().await;
    let db = common::sqlite();
    status_scenario(&sim, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("march.html");
    let o = reingest(
        Some(&sim),
        &db.url,
        &[
            "status",
            "2024-03-01",
            "2024-04-06",
            "--output",
            page.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let shot = dir.path().join("shot.png");
    let profile = dir.path().join("profile");
    let out = tokio::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), out)
        .await
        .expect("chromium finished")
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {log}");
    // Console errors, uncaught exceptions and failed loads of the page are errors; the
    // browser's own complaints about its sandbox (no D-Bus, no GPU) are not about the page.
    let page_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("net::ERR_"))
        .collect();
    assert!(
        page_errors.is_empty(),
        "the page logged errors: {page_errors:?}"
    );

    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).expect("a screenshot"),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1200, 1600));
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| &p[..3])
        .collect();
    let background = pixels[0];
    let drawn = pixels.iter().filter(|p| **p != background).count();
    let colours: std::collections::BTreeSet<&[u8]> = pixels.iter().copied().collect();
    eprintln!(
        "screenshot: {drawn} of {} pixels drawn, {} colours",
        pixels.len(),
        colours.len()
    );
    assert!(
        drawn * 50 > pixels.len(),
        "the page is not blank ({drawn} pixels)"
    );
    assert!(
        colours.len() >= 8,
        "the calendar's colours ({})",
        colours.len()
    );
    // The state colours of the calendar are on the page (light scheme).
    for (state, rgb) in [
        ("verified", [0x2f, 0x9e, 0x5b]),
        ("failed", [0x7d, 0x1d, 0x1d]),
        ("incomplete", [0xe3, 0xa2, 0x1a]),
    ] {
        assert!(pixels.iter().any(|p| *p == rgb), "no {state} square drawn");
    }
}

/// A reader that stops early (`reingest --json bmu list | head -c 400`) closes the pipe while
/// the output, larger than a pipe holds, is still being written: the command ends quietly
/// with its own exit code (0), with no panic message or backtrace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipe_closed_early_ends_the_output_quietly() {
    use tokio::io::AsyncReadExt;

    let db = common::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("units.json");
    // About the size of the real registry (2,733 units).
    let units: Vec<Value> = (0..3000)
        .map(|i| {
            serde_json::json!({
                "elexonBmUnit": format!("T_FARM{i:04}-1"),
                "nationalGridBmUnit": format!("FARM{i:04}-1"),
                "bmUnitName": format!("Farm {i}"),
                "leadPartyName": format!("Lead Party {i} Limited"),
                "fuelType": "WIND",
                "generationCapacity": "330.000"
            })
        })
        .collect();
    std::fs::write(&file, serde_json::to_vec(&units).unwrap()).unwrap();
    let o = reingest(None, &db.url, &["bmu", "import", file.to_str().unwrap()]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let whole = reingest(None, &db.url, &["--json", "bmu", "list"]).await;
    assert_eq!(json(&whole).as_array().map(Vec::len), Some(3000));
    assert!(
        whole.stdout.len() > 4 * 64 * 1024,
        "the document ({} bytes) must be larger than a pipe holds",
        whole.stdout.len()
    );

    let mut child = common::reingest_cmd(None, &db.url)
        .args(["--json", "bmu", "list"])
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = [0u8; 400];
    stdout.read_exact(&mut head).await.unwrap();
    drop(stdout);
    let o = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&head[..], &whole.stdout[..400]);
    let err = stderr(&o);
    for needle in ["panicked", "Broken pipe", "backtrace", "error"] {
        assert!(!err.contains(needle), "{needle:?} on stderr: {err}");
    }
    assert_eq!(o.status.code(), Some(0), "{err}");
}

/// The hand-written list with the quirks of a real `/reference/bmunits/all` response
/// (`../shared/elexon-api.md` §2): 4 units without an Elexon id (3 WIND), `T_WLNYO-4` twice
/// with two `eic` values, null names, parties and capacities, capacities as text. 6 units with
/// an id, 5 distinct, 3 of them wind.
const QUIRKS: &str = include_str!("../../elexon-client/tests/fixtures/bmunits_quirks.json");

/// The simulator's own units (which its stacks name), then the quirky ones and `extra`: a
/// list as messy as the real one that still classifies the simulator's days.
fn quirky_list(extra: &[Value]) -> String {
    let mut units: Vec<Value> = serde_json::from_str(&elexon_sim::wire::bmunits_json(
        &elexon_sim::data::bm_units(common::SEED),
    ))
    .unwrap();
    units.extend(serde_json::from_str::<Vec<Value>>(QUIRKS).unwrap());
    units.extend(extra.iter().cloned());
    serde_json::to_string(&units).unwrap()
}

/// How many units, and wind units, the simulator generates.
fn generated_units() -> (usize, usize) {
    let units = elexon_sim::data::bm_units(common::SEED);
    let wind = units.iter().filter(|u| u.is_wind()).count();
    (units.len(), wind)
}

fn registry_state(db: &TestDb) -> Option<store::RegistryState> {
    use store::prelude::*;
    let s = store::DieselStore::connect(&db.url, store::StoreConfig::default()).unwrap();
    s.registry_state().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bmu_sync_takes_the_real_lists_quirks_on_every_backend() {
    let sim = sim().await;
    let (generated, generated_wind) = generated_units();
    for db in backends() {
        let url = db.url.as_str();
        sim.serve_bm_units(quirky_list(&[]));
        let o = reingest(Some(&sim), url, &["--json", "bmu", "sync"]).await;
        assert_eq!(o.status.code(), Some(0), "{}: {}", db.name, stderr(&o));
        let report = json(&o);
        assert_eq!(report["bm_units"], generated + 5, "{report}");
        assert_eq!(report["wind_units"], generated_wind + 3, "{report}");
        assert_eq!(report["without_id"]["units"], 4, "{report}");
        assert_eq!(report["without_id"]["wind"], 3, "{report}");
        assert_eq!(
            report["without_id"]["national_grid_ids"],
            serde_json::json!(["ACHYW-1", "BRDUW-1", "NOIDG-1", "BLANKW-1"])
        );
        assert_eq!(
            report["duplicates_merged"],
            serde_json::json!(["T_WLNYO-4"])
        );
        assert_eq!(report["duplicates_kept_first"], serde_json::json!([]));
        // The audit: the registry's state row holds the counts.
        let state = registry_state(&db).unwrap();
        assert_eq!(state.origin, settlement_model::RegistryOrigin::Api);
        assert_eq!(
            state.counts,
            Some(settlement_model::RegistryCounts {
                without_id: 4,
                wind_without_id: 3,
                duplicates_merged: 1,
                duplicates_kept_first: 0,
            }),
            "{}",
            db.name
        );
        // The wind units are listed, the merged one once, the id-less ones not at all.
        let o = reingest(Some(&sim), url, &["--json", "bmu", "list", "--wind"]).await;
        let wind = json(&o);
        let ids: Vec<&str> = wind
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["elexonBmUnit"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), generated_wind + 3, "{ids:?}");
        assert_eq!(ids.iter().filter(|id| **id == "T_WLNYO-4").count(), 1);
        for id in ["T_WHILW-1", "E_QUIETW-1"] {
            assert!(ids.contains(&id), "{id} in {ids:?}");
        }
        // The text says the same, on lines of their own.
        let o = reingest(Some(&sim), url, &["bmu", "sync"]).await;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains(&format!(
                "BM unit registry replaced: {} units from the API ({} wind)\n",
                generated + 5,
                generated_wind + 3
            )),
            "{text}"
        );
        assert!(
            text.contains("left out: 4 units without an Elexon id (3 of them WIND)\n"),
            "{text}"
        );
        assert!(
            text.contains("duplicates merged: 1 (T_WLNYO-4)\n"),
            "{text}"
        );

        // A repeated id with another lead party: the first is kept, with a warning by name.
        sim.serve_bm_units(quirky_list(&[serde_json::json!({
            "elexonBmUnit": "E_QUIETW-1", "fuelType": "WIND", "leadPartyName": "Someone Else",
            "nationalGridBmUnit": "QUIETW-1"
        })]));
        let o = reingest(Some(&sim), url, &["bmu", "sync"]).await;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains(
                "warning: E_QUIETW-1 is listed more than once with a different lead party: \
                 the first occurrence was kept\n"
            ),
            "{text}"
        );
        let o = reingest(Some(&sim), url, &["--json", "bmu", "list", "--wind"]).await;
        let quiet = json(&o)
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["elexonBmUnit"] == "E_QUIETW-1")
            .cloned()
            .unwrap();
        assert_eq!(quiet["leadPartyName"], Value::Null, "the first occurrence");

        // A repeated id with another fuel type: exit 2 naming the unit and both values, and
        // the registry as it was.
        let before = common::dump(url);
        sim.serve_bm_units(quirky_list(&[serde_json::json!({
            "elexonBmUnit": "T_WHILW-1", "fuelType": "CCGT", "nationalGridBmUnit": "WHILW-1"
        })]));
        let o = reingest(Some(&sim), url, &["bmu", "sync"]).await;
        assert_one_line_error(&o, 2, "T_WHILW-1");
        let err = stderr(&o);
        assert!(
            err.contains("\"WIND\"") && err.contains("\"CCGT\""),
            "both values: {err}"
        );
        assert!(!err.contains("constraint"), "{err}");
        assert!(common::assert_unchanged(&before, &common::dump(url), "fuel conflict").is_empty());
        sim.serve_generated_bm_units();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_on_a_fresh_database_fills_the_registry_from_a_quirky_list() {
    let sim = sim().await;
    sim.serve_bm_units(quirky_list(&[]));
    for db in backends() {
        let o = reingest(Some(&sim), &db.url, &["--json", "run", "2024-03-21"]).await;
        assert_eq!(o.status.code(), Some(0), "{}: {}", db.name, stderr(&o));
        let run = json(&o);
        assert_eq!(run["verification"]["ok"], true, "{run}");
        let note = run["registry"].as_str().unwrap_or_default();
        assert!(note.starts_with("filled from the API: "), "{run}");
        assert!(
            note.contains("4 left out without an Elexon id (3 WIND)")
                && note.contains("duplicates merged: T_WLNYO-4"),
            "{note}"
        );
        assert!(registry_state(&db).unwrap().counts.is_some(), "{}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bmu_import_applies_the_same_rules_to_the_platforms_file() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/wind-bmus.json");
    let db = common::sqlite();
    if file.exists() {
        let o = reingest(
            None,
            &db.url,
            &["--json", "bmu", "import", file.to_str().unwrap()],
        )
        .await;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let report = json(&o);
        assert_eq!(report["origin"], "file");
        assert_eq!(report["bm_units"], 212, "{report}");
        assert_eq!(report["wind_units"], 212, "{report}");
        assert_eq!(report["without_id"]["units"], 0, "{report}");
        assert_eq!(report["duplicates_merged"], serde_json::json!([]));
        let o = reingest(None, &db.url, &["bmu", "import", file.to_str().unwrap()]).await;
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("212 units from "), "{text}");
        assert!(text.contains("(212 wind)\n"), "{text}");
    } else {
        eprintln!("skipped the platform's file: {} is absent", file.display());
    }
    // The quirky list as a file: the same counts as from the API.
    let dir = tempfile::tempdir().unwrap();
    let quirks = dir.path().join("quirks.json");
    std::fs::write(&quirks, QUIRKS).unwrap();
    let o = reingest(
        None,
        &db.url,
        &["--json", "bmu", "import", quirks.to_str().unwrap()],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = json(&o);
    assert_eq!(report["bm_units"], 5, "{report}");
    assert_eq!(report["without_id"]["wind"], 3, "{report}");
    assert_eq!(
        report["duplicates_merged"],
        serde_json::json!(["T_WLNYO-4"])
    );
    let state = registry_state(&db).unwrap();
    assert_eq!(state.origin, settlement_model::RegistryOrigin::File);
    assert_eq!(state.counts.unwrap().without_id, 4);
    // A file that lists one unit with two fuel types: exit 2, nothing written.
    let mut units: Vec<Value> = serde_json::from_str(QUIRKS).unwrap();
    units.push(serde_json::json!({"elexonBmUnit": "T_PEHE-1", "fuelType": null}));
    std::fs::write(&quirks, serde_json::to_string(&units).unwrap()).unwrap();
    let before = common::dump(&db.url);
    let o = reingest(None, &db.url, &["bmu", "import", quirks.to_str().unwrap()]).await;
    assert_one_line_error(
        &o,
        2,
        "T_PEHE-1 is listed more than once with different fuel types (\"CCGT\" and null)",
    );
    assert!(common::assert_unchanged(&before, &common::dump(&db.url), "fuel conflict").is_empty());
    // A file whose units all lack an id: exit 2 saying so, nothing written.
    std::fs::write(
        &quirks,
        r#"[{"elexonBmUnit": null, "nationalGridBmUnit": "ACHYW-1", "fuelType": "WIND"}]"#,
    )
    .unwrap();
    let o = reingest(None, &db.url, &["bmu", "import", quirks.to_str().unwrap()]).await;
    assert_one_line_error(&o, 2, "no unit with an Elexon id (1 without one)");
    assert!(common::assert_unchanged(&before, &common::dump(&db.url), "no ids").is_empty());
}

/// The exact error line of commands that fail on their input, and the `--json` document's
/// `error`, which is the same text: the binary words the library's errors (their causes and
/// the commands that fix them) as it always has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_lines_are_worded_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("lines.db").display());
    let missing = dir.path().join("no-such-file.json");
    let missing = missing.to_str().unwrap();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["range", "2024-01-01", "2024-01-01", "--jobs", "65"],
            "--jobs must be between 1 and 64, got 65".into(),
        ),
        (
            vec!["--auto-migrate", "restore", "no-such-run"],
            "no run \"no-such-run\" in the audit log; see `reingest runs`".into(),
        ),
        (
            vec!["--auto-migrate", "diff", "2024-03-21"],
            "2024-03-21 has fewer than two committed runs to compare; name them: reingest diff \
             2024-03-21 RUN_A RUN_B"
                .into(),
        ),
        (
            vec!["--auto-migrate", "report", "2024-03-21"],
            "2024-03-21 has no committed run; see `reingest runs --date 2024-03-21`".into(),
        ),
        (
            vec!["--auto-migrate", "report", "zzz"],
            "no run \"zzz\" in the audit log; give a run id or a date (see `reingest runs`)".into(),
        ),
        (
            vec!["bmu", "import", missing],
            format!("cannot read {missing}: No such file or directory (os error 2)"),
        ),
    ];
    for (args, want) in cases {
        let mut with_json = vec!["--json"];
        with_json.extend(&args);
        let o = reingest(None, &db, &with_json).await;
        assert_one_line_error(&o, 2, &want);
        let line = stderr(&o)
            .lines()
            .find(|l| l.starts_with("error: "))
            .map(str::to_owned)
            .unwrap();
        assert_eq!(line, format!("error: {want}"), "{args:?}");
        assert_eq!(json(&o)["error"], want.as_str(), "{args:?}");
    }

    // A cause of another crate (the HTTP client's) sits between the context and the remedy.
    let o = reingest(None, &db, &["--json", "difficulty", "sync"]).await;
    let err = stderr(&o);
    let line = err.lines().find(|l| l.starts_with("error: ")).unwrap();
    assert!(
        line.starts_with(
            "error: cannot read difficulty from http://127.0.0.1:1/difficulty: download: giving \
             up after 2 attempts; last error: cannot connect: "
        ),
        "{line}"
    );
    assert!(
        line.ends_with(
            "(GET http://127.0.0.1:1/difficulty); use `reingest difficulty set DATE VALUE` or \
             `reingest difficulty import FILE` (library: `SettlementStore::upsert_difficulties`)"
        ),
        "{line}"
    );
    assert_eq!(json(&o)["error"], line.trim_start_matches("error: "));
}
