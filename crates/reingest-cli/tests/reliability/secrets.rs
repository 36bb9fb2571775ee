//! Reliability: secrets and transport. A password in the database URL never appears in
//! logs (`--log-file` and stderr at `RUST_LOG=debug`), errors, the audit log (`runs --json`,
//! and every table), or `--json` output; a plain-HTTP Elexon or difficulty URL that is not
//! loopback is refused unless `--allow-insecure-http` is given.

use crate::common;

use std::time::Duration;

use crate::common::{d, dump, err_text, reingest_cmd};
use elexon_sim::{Fault, FaultRule, SimHandle};

const SECRET: &str = "S3cr3tPw";
const LIMIT: Duration = Duration::from_secs(60);

/// Runs with `RUST_LOG=debug` and a log file; returns stdout, stderr and the log file, joined.
async fn run_logged(
    sim: Option<&SimHandle>,
    url: &str,
    log: &std::path::Path,
    args: &[&str],
) -> (Option<i32>, String) {
    let child = reingest_cmd(sim, url)
        .env("RUST_LOG", "debug")
        .arg("--log-file")
        .arg(log)
        .args(["--max-attempts", "2", "--timeout-secs", "5"])
        .args(args)
        .spawn()
        .unwrap();
    let o = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let text = format!(
        "{}\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        err_text(&o),
        std::fs::read_to_string(log).unwrap_or_default()
    );
    (o.status.code(), text)
}

fn assert_no_secret(text: &str, what: &str) {
    assert!(
        !text.contains(SECRET),
        "{what}: the password leaked:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_passwords_never_appear_in_output_logs_errors_or_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("reingest.log");
    // Unreachable servers, with the password in several spellings.
    for url in [
        format!("postgres://op:{SECRET}@127.0.0.1:1/platform"),
        format!("postgresql://op:{SECRET}@localhost:1/platform?sslmode=disable"),
        format!("postgres://op:{SECRET}@no-such-host.invalid:5432/platform"),
        format!("postgres://op:{SECRET}%40x@127.0.0.1:1/platform"),
        format!("host=127.0.0.1 port=1 user=op password={SECRET} dbname=platform"),
    ] {
        let (code, text) = run_logged(None, &url, &log, &["--json", "verify", "2024-03-21"]).await;
        assert_eq!(code, Some(2), "{url}: {text}");
        assert!(text.contains("error: "), "{text}");
        assert_no_secret(&text, &url);
    }
    let Some(db) = common::postgres() else { return };
    // A reachable server (trust authentication ignores the password, so it still connects).
    let (scheme_rest, name) = db.url.split_once("://").unwrap();
    let url = format!(
        "{scheme_rest}://postgres:{SECRET}@{}",
        name.split_once('@').map_or(name, |(_, h)| h)
    );
    let sim = common::sim().await;
    let date = "2024-09-09";
    let mut all = String::new();
    for args in [
        vec!["--json", "run", date, "--reason", "secrets"],
        vec!["--json", "verify", date, "--against-api"],
        vec!["--json", "runs"],
        vec!["runs"],
        vec!["--json", "bmu", "list"],
        vec!["run", date, "--expect-energy", "0.5"],
    ] {
        let (code, text) = run_logged(Some(&sim), &url, &log, &args).await;
        assert!(matches!(code, Some(0) | Some(1)), "{args:?}: {text}");
        assert_no_secret(&text, &format!("{args:?}"));
        all.push_str(&text);
    }
    // A failed run: its error goes to stderr, the log and the audit table.
    sim.add_fault(FaultRule::new(Fault::ServerError).date(d(date)).period(3));
    let (code, text) = run_logged(Some(&sim), &url, &log, &["--json", "run", date]).await;
    assert_eq!(code, Some(2), "{text}");
    assert_no_secret(&text, "failed run");
    sim.clear_faults();
    // The database itself: every table, audit log included.
    let tables = dump(&db.url);
    assert!(tables["reingest_runs"].len() >= 3);
    for (t, rows) in &tables {
        for r in rows {
            assert_no_secret(r, t);
        }
    }
    assert!(all.contains("\"run_id\""), "the runs really happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_that_is_not_loopback_needs_the_explicit_flag() {
    let db = common::sqlite();
    for (args, refused) in [
        (
            vec![
                "--elexon-url",
                "http://data.example.com/bmrs/api/v1",
                "run",
                "2024-03-21",
            ],
            true,
        ),
        (
            vec![
                "--elexon-url",
                "http://10.0.0.1/bmrs/api/v1",
                "verify",
                "2024-03-21",
                "--against-api",
            ],
            true,
        ),
        (
            vec![
                "--elexon-url",
                "http://[::2]/bmrs/api/v1",
                "run",
                "2024-03-21",
            ],
            true,
        ),
        (
            vec![
                "difficulty",
                "sync",
                "--url",
                "http://mempool.example.com/api",
            ],
            true,
        ),
        (
            vec![
                "--elexon-url",
                "ftp://data.example.com/",
                "run",
                "2024-03-21",
            ],
            true,
        ),
        // With the flag, the URL is used (and then fails to connect: a different error).
        (
            vec![
                "--allow-insecure-http",
                "--elexon-url",
                "http://192.0.2.1/bmrs/api/v1",
                "run",
                "2024-03-21",
            ],
            false,
        ),
    ] {
        let child = reingest_cmd(None, &db.url)
            .args(["--max-attempts", "1", "--timeout-secs", "1"])
            .args(&args)
            .spawn()
            .unwrap();
        let o = tokio::time::timeout(LIMIT, child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let stderr = err_text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        let line = stderr.lines().find(|l| l.starts_with("error: ")).unwrap();
        let says_insecure =
            line.contains("plain-HTTP") || line.contains("http://") && line.contains("refus");
        if refused {
            assert!(
                says_insecure || line.contains("invalid URL"),
                "{args:?}: {line}"
            );
        } else {
            assert!(!line.contains("refusing plain-HTTP"), "{args:?}: {line}");
        }
    }
}
