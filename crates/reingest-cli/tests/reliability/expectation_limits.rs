//! Expectations at the limits of a decimal (`--expect-energy` near ±7.9e28) give a clear
//! failed check and exit 1, never a panic; negative tolerances are refused as bad input.

use crate::common;

use std::time::Duration;

use crate::common::{assert_unchanged, dump, err_text, reingest_out};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_expectations_are_a_clear_verdict_not_a_panic() {
    let sim = common::sim().await;
    let db = common::sqlite();
    let limit = Duration::from_secs(60);
    let o = reingest_out(Some(&sim), &db.url, &["run", "2024-03-22"], limit).await;
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    for args in [
        vec![
            "run",
            "2024-03-22",
            "--expect-energy=-79228162514264337593543950335",
        ],
        vec![
            "run",
            "2024-03-22",
            "--expect-payment=-79228162514264337593543950335",
        ],
        vec![
            "run",
            "2024-03-22",
            "--expect-energy",
            "0",
            "--tolerance-energy=-1",
        ],
    ] {
        let before = dump(&db.url);
        let o = reingest_out(Some(&sim), &db.url, &args, limit).await;
        let stderr = err_text(&o);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        let code = o.status.code().unwrap();
        assert!(code == 1 || code == 2, "{args:?}: exit {code}: {stderr}");
        assert_unchanged(&before, &dump(&db.url), &format!("{args:?}"));
    }
}
