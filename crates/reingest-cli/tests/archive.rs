//! The source archive: offline recompute equals the original run, `diff` explains a
//! republished day period by period, corrupt entries are refused, prune keeps what it must,
//! and drift is attributed to Elexon or to our database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{backends, d, expected_records, fingerprint, pipeline, settings, sim, sql};
use reingest::{NoProgress, RunOptions};
use rust_decimal::Decimal;
use store::prelude::*;

/// Takes out of the registry (as an operator's file would) a farm with records on `date`,
/// so a replay with today's registry differs from the run it replays. Returns its id.
fn drop_a_curtailed_farm(
    p: &reingest::app::StandardPipeline,
    date: settlement_model::SettlementDate,
) -> String {
    let farm = p.store().day_state(date).unwrap().records[0]
        .farm_id
        .clone();
    let units: Vec<_> = p
        .store()
        .bm_units()
        .unwrap()
        .into_iter()
        .filter(|u| u.elexon_bm_unit != farm)
        .collect();
    p.store()
        .replace_bm_units(
            &units,
            settlement_model::RegistryOrigin::File,
            settlement_model::RegistryCounts::default(),
        )
        .unwrap();
    farm
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recompute_from_the_archive_equals_the_original_run_with_no_network() {
    let sim = sim().await;
    for db in backends() {
        let online = pipeline(&sim, &db).await;
        let date = d("2024-10-27");
        let original = online
            .run(&RunOptions::new(date), &NoProgress)
            .await
            .unwrap();
        let before = fingerprint(&online.store().day_state(date).unwrap());
        // The same database, but the API is unreachable.
        let mut offline_settings = settings(&sim, &db);
        offline_settings.elexon_url = "http://127.0.0.1:1/bmrs/api/v1".into();
        offline_settings.difficulty_url = "http://127.0.0.1:1/difficulty".into();
        let offline = offline_settings.build().await.unwrap();
        let report = offline
            .run_from_archive(&RunOptions::new(date), None, false, &NoProgress)
            .await
            .unwrap();
        assert!(
            report.committed && report.verification.ok,
            "{}: {:?}",
            db.name,
            report.verification
        );
        assert_eq!(report.periods_fetched, 50);
        assert_eq!(report.energy_mwh, original.energy_mwh);
        assert_eq!(
            before,
            fingerprint(&offline.store().day_state(date).unwrap()),
            "{}",
            db.name
        );
        let runs = offline.store().runs(Some(date)).unwrap();
        assert!(runs[0]
            .reason
            .as_deref()
            .unwrap()
            .contains(&original.run_id));
        // The recompute logged the same sources.
        let a: BTreeSet<_> = offline
            .store()
            .run_fetch_log(&original.run_id)
            .unwrap()
            .into_iter()
            .map(|e| e.source_hash)
            .collect();
        let b: BTreeSet<_> = offline
            .store()
            .run_fetch_log(&report.run_id)
            .unwrap()
            .into_iter()
            .map(|e| e.source_hash)
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().all(Option::is_some));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_reports_a_republished_day_period_by_period() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-12-05");
        let first = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        let same = p.diff(date, None, None).await;
        assert!(same.is_err(), "one run: nothing to compare yet");
        sim.set_revision(date, 1);
        let second = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        let diff = p.diff(date, None, None).await.unwrap();
        assert_eq!(
            (diff.run_a.as_str(), diff.run_b.as_str()),
            (first.run_id.as_str(), second.run_id.as_str())
        );

        // The periods whose farm totals differ between the simulator's revisions 0 and 1.
        let totals = |rev| {
            let mut m: BTreeMap<(u8, String), (Decimal, Decimal)> = BTreeMap::new();
            for r in expected_records(date, rev) {
                let e = m
                    .entry((r.settlement_period, r.farm_id.clone()))
                    .or_default();
                e.0 += r.volume;
                e.1 += r.payment;
            }
            m
        };
        let (t0, t1) = (totals(0), totals(1));
        let keys: BTreeSet<_> = t0.keys().chain(t1.keys()).cloned().collect();
        let expected: BTreeSet<u8> = keys
            .into_iter()
            .filter(|k| t0.get(k) != t1.get(k))
            .map(|k| k.0)
            .collect();
        assert!(
            !expected.is_empty(),
            "revision 1 changes curtailment on this day"
        );
        let reported: BTreeSet<u8> = diff
            .periods
            .iter()
            .filter(|p| !p.farms.is_empty())
            .map(|p| p.period)
            .collect();
        assert_eq!(reported, expected, "{}", db.name);
        for period in diff.periods.iter().filter(|p| !p.farms.is_empty()) {
            assert!(period.source_changed);
            assert!(
                period.created_b > period.created_a,
                "a later calculation run"
            );
        }
        let delta: Decimal =
            t1.values().map(|v| v.0).sum::<Decimal>() - t0.values().map(|v| v.0).sum::<Decimal>();
        assert_eq!(diff.volume_delta, delta);
        sim.set_revision(date, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_archive_entry_is_detected_and_not_used() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-04-02");
        p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        let before = fingerprint(&p.store().day_state(date).unwrap());
        match p.store().archive_dir() {
            Some(dir) => {
                for entry in std::fs::read_dir(dir).unwrap() {
                    let path = entry.unwrap().path();
                    let mut bytes = std::fs::read(&path).unwrap();
                    let n = bytes.len();
                    bytes[n / 2] ^= 0xff;
                    std::fs::write(&path, bytes).unwrap();
                }
            }
            None => sql(
                &db,
                "UPDATE source_archive SET body = decode('1f8b0800', 'hex')",
            ),
        }
        let err = p
            .run_from_archive(&RunOptions::new(date), None, false, &NoProgress)
            .await
            .unwrap_err();
        assert!(
            reingest::error::describe(&err).contains("corrupt"),
            "{}: {err}",
            db.name
        );
        assert_eq!(err.exit_code(), 2);
        assert_eq!(before, fingerprint(&p.store().day_state(date).unwrap()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_keeps_the_newest_runs_sources() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let (a, b) = (d("2024-01-10"), d("2024-01-11"));
        let mut runs_a = Vec::new();
        for rev in 0..3 {
            sim.set_revision(a, rev);
            runs_a.push(
                p.run(&RunOptions::new(a), &NoProgress)
                    .await
                    .unwrap()
                    .run_id,
            );
        }
        sim.set_revision(a, 0);
        p.run(&RunOptions::new(b), &NoProgress).await.unwrap();
        let total = p.store().source_hashes().unwrap().len();
        // A run still in progress (its fetch log not yet committed) blocks the prune.
        sql(
            &db,
            &format!(
                "INSERT INTO reingest_runs (run_id, kind, settlement_date, periods, user_name, \
                 host, status, started_at, tool_version) VALUES ('busy', 'run', '2024-01-12', \
                 '1-48', 'u', 'h', 'running', '{}', 't')",
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            ),
        );
        let busy = reingest::error::describe(&p.prune_archive(1).await.unwrap_err());
        assert!(busy.contains("busy (2024-01-12)"), "{busy}");
        assert_eq!(p.store().source_hashes().unwrap().len(), total);
        sql(&db, "DELETE FROM reingest_runs WHERE run_id = 'busy'");

        let report = p.prune_archive(1).await.unwrap();
        assert_eq!(report.runs_kept, 2, "{}", db.name);
        assert!(report.deleted > 0 && report.kept + report.deleted == total);
        // Backups go with the sources: the older runs of a date can no longer be restored.
        assert_eq!(report.backups_kept, 2);
        assert!(report.backup_rows_deleted > 0);
        assert!(p.store().backup_records(&runs_a[1]).unwrap().is_empty());
        let gone = reingest::error::describe(&p.restore(&runs_a[1], false).await.unwrap_err());
        assert!(gone.contains("can no longer be restored"), "{gone}");
        assert!(!p.store().backup_records(&runs_a[2]).unwrap().is_empty());
        // The newest run of each date can still be recomputed; the oldest cannot.
        let newest = p
            .run_from_archive(&RunOptions::new(a), Some(&runs_a[2]), false, &NoProgress)
            .await
            .unwrap();
        assert!(newest.committed);
        p.run_from_archive(&RunOptions::new(b), None, false, &NoProgress)
            .await
            .unwrap();
        let old = p
            .run_from_archive(&RunOptions::new(a), Some(&runs_a[0]), false, &NoProgress)
            .await;
        assert!(reingest::error::describe(&old.unwrap_err()).contains("not in the archive"));
        assert!(
            p.prune_archive(0).await.is_ok(),
            "keep-last 0 still keeps the newest"
        );
        p.run_from_archive(&RunOptions::new(b), None, false, &NoProgress)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_attributed_to_elexon_or_to_our_database() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-02-20");
        p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        // Elexon republishes: the responses differ from the archived ones.
        sim.set_revision(date, 1);
        let v = p.verify(date, true, &NoProgress).await.unwrap();
        assert!(!v.drift.is_empty());
        assert!(
            v.drift
                .iter()
                .all(|d| d.cause == Some(reingest::DriftCause::Source)),
            "{:?}",
            v.drift
        );
        sim.set_revision(date, 0);
        // Someone edits our rows: the API still sends what the run used.
        let period = p.store().day_state(date).unwrap().records[0].settlement_period;
        sql(
            &db,
            &format!(
                "UPDATE curtailment_records SET volume = '-999' WHERE settlement_date = '2024-02-20' AND settlement_period = {period}"
            ),
        );
        let v = p.verify(date, true, &NoProgress).await.unwrap();
        assert_eq!(v.drift.len(), 1, "{}: {:?}", db.name, v.drift);
        assert_eq!(v.drift[0].cause, Some(reingest::DriftCause::Database));
        let check = v
            .verification
            .checks
            .iter()
            .find(|c| c.name == "matches_api")
            .unwrap();
        assert!(
            check.detail.contains("rows changed in the database"),
            "{}",
            check.detail
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_as_recorded_reproduces_the_run_after_its_reference_data_changed() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-10-27");
        let original = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        let recorded = original.fingerprint.clone().unwrap();
        let rows = fingerprint(&p.store().day_state(date).unwrap());
        let evidence = p.evidence(&original.run_id).await.unwrap().unwrap();
        assert_eq!(evidence.fingerprint.total, recorded);
        assert_eq!(evidence.per_period.len(), 50);
        assert!(evidence.per_period.iter().any(|x| x.created.is_some()));

        // The registry loses a farm with records; the difficulty in force is revised.
        let farm = drop_a_curtailed_farm(&p, date);
        let adjusted = original.inputs.difficulty_date.unwrap();
        let revised = original.inputs.difficulty * Decimal::TWO;
        p.store()
            .upsert_difficulties(&[settlement_model::DifficultyEntry::new(adjusted, revised)])
            .unwrap();

        // As recorded: the original rows and fingerprint, exactly, with no network.
        let replay = p
            .run_from_archive(
                &RunOptions::new(date),
                Some(&original.run_id),
                true,
                &NoProgress,
            )
            .await
            .unwrap();
        assert!(replay.committed, "{}: {:?}", db.name, replay.verification);
        assert_eq!(replay.fingerprint.as_deref(), Some(recorded.as_str()));
        assert_eq!(fingerprint(&p.store().day_state(date).unwrap()), rows);
        assert!(replay
            .verification
            .checks
            .iter()
            .any(|c| c.name == "fingerprint_matches_recorded" && c.ok));
        assert!(replay.reference_changes.is_empty());

        // With today's reference data: other rows, and the report says what differed.
        let today = p
            .run_from_archive(
                &RunOptions::new(date),
                Some(&original.run_id),
                false,
                &NoProgress,
            )
            .await
            .unwrap();
        assert!(
            today.committed && today.verification.ok,
            "{:?}",
            today.verification
        );
        assert_ne!(today.fingerprint.as_deref(), Some(recorded.as_str()));
        assert_eq!(today.inputs.difficulty, revised);
        let changes = today.reference_changes.join("\n");
        assert!(changes.contains("BM unit registry"), "{changes}");
        assert!(changes.contains("difficulty"), "{changes}");

        // A snapshot that no longer matches cannot reproduce the run: exit 1, nothing changed.
        sql(
            &db,
            &format!(
                "UPDATE registry_snapshots SET units = REPLACE(units, '\"{farm}\"', '\"T_GONE\"')"
            ),
        );
        let before = fingerprint(&p.store().day_state(date).unwrap());
        let broken = p
            .run_from_archive(
                &RunOptions::new(date),
                Some(&original.run_id),
                true,
                &NoProgress,
            )
            .await
            .unwrap();
        assert!(!broken.committed);
        assert_eq!(broken.exit_code(), 1);
        let check = broken
            .verification
            .checks
            .iter()
            .find(|c| c.name == "fingerprint_matches_recorded")
            .unwrap();
        assert!(
            !check.ok && check.detail.contains("records"),
            "{}",
            check.detail
        );
        assert_eq!(fingerprint(&p.store().day_state(date).unwrap()), before);
    }
}

/// Runs `from..=to` (but `skip`) live from `sim` into `db`, archiving every response: fast,
/// with no rate limit worth the name.
async fn archive_dates(
    sim: &elexon_sim::SimHandle,
    db: &common::TestDb,
    from: &str,
    to: &str,
    skip: &[&str],
) {
    let mut s = settings(sim, db);
    s.rate_limit = 1_000_000;
    let p = s.build().await.unwrap();
    let skip: Vec<_> = skip.iter().map(|x| d(x)).collect();
    for date in d(from).through(d(to)).filter(|x| !skip.contains(x)) {
        let r = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        assert!(r.committed, "{date}: {:?}", r.verification);
    }
}

/// `reingest --json ARGS` against `db` with no API reachable: exit code and document.
async fn offline_json(db: &common::TestDb, args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = common::reingest_out(None, &db.url, &all, std::time::Duration::from_secs(300)).await;
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{}: {e}: {}", db.name, common::err_text(&out)));
    (out.status.code().unwrap(), doc, common::err_text(&out))
}

fn statuses(doc: &serde_json::Value) -> BTreeMap<String, String> {
    doc["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["date"].as_str().unwrap().to_owned(),
                x["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_from_the_archive_recomputes_a_month_offline_and_lists_dates_never_fetched() {
    let sim = sim().await;
    for db in backends() {
        archive_dates(&sim, &db, "2024-03-01", "2024-03-30", &["2024-03-15"]).await;
        // No API at all from here on: the simulator stands for nothing.
        let args = ["range", "2024-03-01", "2024-03-30", "--from-archive"];
        let (code, doc, err) = offline_json(&db, &args).await;
        assert_eq!(code, 1, "{}: {err}", db.name);
        let st = statuses(&doc);
        assert_eq!(st.len(), 30);
        assert_eq!(st["2024-03-15"], "no-archive", "{}", db.name);
        assert!(
            st.iter()
                .filter(|(date, _)| *date != "2024-03-15")
                .all(|(_, s)| s == "ok"),
            "{}: {st:?}",
            db.name
        );
        // The text lists it at the end.
        let out =
            common::reingest_out(None, &db.url, &args, std::time::Duration::from_secs(300)).await;
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1));
        let tail = text.split("no archived run").nth(1).unwrap_or_default();
        assert!(tail.contains("2024-03-15"), "{text}");
        // The other dates were committed by the range, from the archive.
        let runs = common::audit(&db, d("2024-03-14"));
        assert!(runs[0].committed());
        assert_eq!(
            runs[0].range_tag.as_deref(),
            Some("2024-03-01..2024-03-30 from-archive")
        );
        assert!(runs[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("from archive of run"));

        // Once the date is fetched, the whole month recomputes offline and verifies.
        archive_dates(&sim, &db, "2024-03-15", "2024-03-15", &[]).await;
        let (code, doc, err) = offline_json(&db, &args).await;
        assert_eq!(code, 0, "{}: {err}", db.name);
        assert!(statuses(&doc).values().all(|s| s == "ok"), "{doc}");
        let out = common::reingest_out(
            None,
            &db.url,
            &["verify", "2024-03-15"],
            std::time::Duration::from_secs(60),
        )
        .await;
        assert_eq!(out.status.code(), Some(0), "{}", common::err_text(&out));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_from_the_archive_fetches_missing_dates_when_asked() {
    let sim = sim().await;
    let db = common::sqlite();
    archive_dates(&sim, &db, "2024-05-01", "2024-05-03", &["2024-05-02"]).await;
    let out = common::reingest_out(
        Some(&sim),
        &db.url,
        &[
            "--json",
            "range",
            "2024-05-01",
            "2024-05-03",
            "--from-archive",
            "--fetch-missing",
        ],
        std::time::Duration::from_secs(120),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", common::err_text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(statuses(&doc).values().all(|s| s == "ok"), "{doc}");
    let runs = common::audit(&db, d("2024-05-02"));
    assert_eq!(runs.len(), 1);
    assert!(runs[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("fetched from the API"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_from_the_archive_adds_a_miner_model_and_as_recorded_reproduces_the_rows() {
    let sim = sim().await;
    for db in backends() {
        archive_dates(&sim, &db, "2024-06-01", "2024-06-07", &[]).await;
        let dates: Vec<_> = d("2024-06-01").through(d("2024-06-07")).collect();
        let p = pipeline(&sim, &db).await;
        let before: Vec<String> = dates
            .iter()
            .map(|x| fingerprint(&p.store().day_state(*x).unwrap()))
            .collect();

        // The registry loses a farm with records; the difficulty in force is doubled.
        let farm = drop_a_curtailed_farm(&p, dates[0]);
        let around = p.store().difficulty_around(dates[0].naive()).unwrap();
        let entry = around.in_force.unwrap();
        p.store()
            .upsert_difficulties(&[settlement_model::DifficultyEntry::new(
                entry.date,
                entry.difficulty * Decimal::TWO,
            )])
            .unwrap();

        // As recorded: every date's rows exactly as they were, offline.
        let args = [
            "range",
            "2024-06-01",
            "2024-06-07",
            "--from-archive",
            "--as-recorded",
        ];
        let (code, doc, err) = offline_json(&db, &args).await;
        assert_eq!(code, 0, "{}: {err} {doc}", db.name);
        let after: Vec<String> = dates
            .iter()
            .map(|x| fingerprint(&p.store().day_state(*x).unwrap()))
            .collect();
        assert_eq!(before, after, "{}", db.name);

        // A new miner model reaches the past: four models' rows and summaries per date.
        let args = [
            "--miner-models",
            "S21:200:3500",
            "--miners",
            "S19J_PRO,S9,M20S,S21",
            "range",
            "2024-06-01",
            "2024-06-07",
            "--from-archive",
        ];
        let (code, doc, err) = offline_json(&db, &args).await;
        assert_eq!(code, 0, "{}: {err} {doc}", db.name);
        for date in &dates {
            let state = p.store().day_state(*date).unwrap();
            let models: BTreeSet<&str> = state
                .bitcoin_rows
                .iter()
                .map(|r| r.miner_model.as_str())
                .collect();
            assert_eq!(
                models,
                BTreeSet::from(["M20S", "S19J_PRO", "S21", "S9"]),
                "{}: {date}",
                db.name
            );
            let summarised: BTreeSet<&str> = state
                .bitcoin_summaries
                .iter()
                .filter(|s| s.period == settlement_model::SummaryPeriod::Day(*date))
                .map(|s| s.miner_model.as_str())
                .collect();
            assert_eq!(summarised, models, "{}: {date}", db.name);
            // Today's registry applied: the farm dropped from it has no records any more.
            assert!(state.records.iter().all(|r| r.farm_id != farm));
        }
        let out = common::reingest_out(
            None,
            &db.url,
            &[
                "--miners",
                "S19J_PRO,S9,M20S,S21",
                "--miner-models",
                "S21:200:3500",
                "verify",
                "2024-06-04",
            ],
            std::time::Duration::from_secs(60),
        )
        .await;
        assert_eq!(out.status.code(), Some(0), "{}", common::err_text(&out));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_from_the_archive_interrupted_by_ctrl_c_resumes_only_what_is_left() {
    let sim = sim().await;
    for db in backends() {
        archive_dates(&sim, &db, "2024-07-01", "2024-07-30", &[]).await;
        let tag = "2024-07-01..2024-07-30 from-archive";
        let args = [
            "range",
            "2024-07-01",
            "2024-07-30",
            "--from-archive",
            "--jobs",
            "1",
        ];
        let child = common::reingest_cmd(None, &db.url)
            .args(args)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        let store = store::DieselStore::connect(&db.url, store::StoreConfig::default()).unwrap();
        let first_done = common::poll_until(std::time::Duration::from_secs(120), || {
            !store.dates_done_in_range(tag).unwrap().is_empty()
        })
        .await;
        assert!(first_done, "{}: no date committed", db.name);
        let kill = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let out =
            tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
                .await
                .unwrap()
                .unwrap();
        assert_eq!(
            out.status.code(),
            Some(130),
            "{}: {}",
            db.name,
            common::err_text(&out)
        );
        assert!(common::err_text(&out).contains("--resume"));
        let done_before = store.dates_done_in_range(tag).unwrap();
        assert!(
            done_before.len() < 30,
            "{}: the range finished first",
            db.name
        );

        let mut resume = vec!["--json"];
        resume.extend_from_slice(&args);
        resume.push("--resume");
        let out =
            common::reingest_out(None, &db.url, &resume, std::time::Duration::from_secs(300)).await;
        assert_eq!(out.status.code(), Some(0), "{}", common::err_text(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let st = statuses(&doc);
        let skipped: Vec<&String> = st
            .iter()
            .filter(|(_, s)| *s == "skipped")
            .map(|(x, _)| x)
            .collect();
        assert_eq!(skipped.len(), done_before.len(), "{}: {st:?}", db.name);
        for date in d("2024-07-01").through(d("2024-07-30")) {
            let tagged = common::audit(&db, date)
                .into_iter()
                .filter(|r| r.committed() && r.range_tag.as_deref() == Some(tag))
                .count();
            assert_eq!(tagged, 1, "{}: {date} done once", db.name);
        }
    }
}
