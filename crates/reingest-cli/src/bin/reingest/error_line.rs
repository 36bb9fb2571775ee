//! The one line an error becomes on stderr (after `error: `), in the `--json` error
//! document, and in the reports that keep an error as text: the library's message and its
//! causes joined with `: ` ([`reingest::error::describe`]), then the commands that fix it
//! ([`crate::remedy`]) — the wording the binary has always printed.

use reingest::error::{describe, DifficultyError};
use reingest::PipelineError;

use crate::remedy;

/// The line for `e`.
pub fn line(e: &PipelineError) -> String {
    let fix = remedy::suffix(e);
    match e {
        // What is missing, how to add it, then why the feed did not: the feed's error is a
        // line of its own, with its own remedies, in brackets.
        PipelineError::Difficulty(DifficultyError::NotSettled { problem }) => format!(
            "{problem}{fix} (the difficulty feed was synced and has nothing that settles it)"
        ),
        PipelineError::Difficulty(DifficultyError::FeedCouldNotHelp {
            problem,
            feed_error,
        }) => format!(
            "{problem}{fix} (the difficulty feed could not help: {})",
            line(feed_error)
        ),
        _ => {
            let text = describe(e);
            let text = match remedy::headline(e) {
                Some(head) => {
                    let causes = text.strip_prefix(&e.to_string()).unwrap_or_default();
                    format!("{head}{causes}")
                }
                None => text,
            };
            format!("{text}{fix}")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use reingest::error::{DifficultyError, InputError, InputsProblem, RegistryError};
    use reingest::PipelineError;
    use settlement_model::{PeriodList, SettlementDate};

    use super::line;

    fn date(s: &str) -> SettlementDate {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn io(text: &str) -> std::io::Error {
        std::io::Error::other(text.to_owned())
    }

    fn json_error() -> serde_json::Error {
        match serde_json::from_str::<u8>("x") {
            Err(e) => e,
            Ok(v) => panic!("parsed {v}"),
        }
    }

    fn feed_unreadable() -> DifficultyError {
        DifficultyError::FeedUnreadable {
            feed: "https://feed.test/adjustments".into(),
            source: Box::new(io("connection reset")),
        }
    }

    /// Errors of every kind, each as the line the binary printed before the library's
    /// messages lost their remedies and their causes' text.
    pub(crate) fn cases() -> Vec<(PipelineError, &'static str)> {
        let d = date("2024-03-21");
        vec![
            (
                elexon_client::FetchError::Internal("parser panicked".into()).into(),
                "fetch failed, nothing was written: internal error: parser panicked",
            ),
            (
                PipelineError::Unpublished {
                    date: d,
                    periods: PeriodList::new(vec![3, 4, 5, 9]),
                },
                "2024-03-21 periods 3-5, 9: not published by the API (both stacks empty), nothing was written; wait for Elexon to publish them, or record them as missing (--allow-missing-periods), which leaves the day incomplete",
            ),
            (
                store::StoreError::RunNotFound { run_id: "r1".into() }.into(),
                "database: no run \"r1\" in the audit log (see `reingest runs`)",
            ),
            (
                store::StoreError::Constraint {
                    kind: store::ConstraintKind::Unique,
                    table: Some("bm_units".into()),
                    detail: "UNIQUE constraint failed: bm_units.elexon_bm_unit".into(),
                }
                .into(),
                "database: the database refused a write that breaks its unique key rule on table bm_units (UNIQUE constraint failed: bm_units.elexon_bm_unit); the transaction was rolled back and nothing was written: another process probably wrote the same rows at the same time, so run the command again; if it fails the same way, the input names one key twice or this is a bug in reingest: report it with this message",
            ),
            (
                store::StoreError::Constraint {
                    kind: store::ConstraintKind::ForeignKey,
                    table: None,
                    detail: "FOREIGN KEY constraint failed".into(),
                }
                .into(),
                "database: the database refused a write that breaks its foreign key rule (FOREIGN KEY constraint failed); the transaction was rolled back and nothing was written: a row refers to one that is missing; run `reingest migrate` in case the schema is behind this version, check that no other tool deleted rows meanwhile, and run the command again",
            ),
            (
                store::StoreError::Constraint {
                    kind: store::ConstraintKind::Check,
                    table: Some("curtailment_records".into()),
                    detail: "new row violates check constraint".into(),
                }
                .into(),
                "database: the database refused a write that breaks its check rule on table curtailment_records (new row violates check constraint); the transaction was rolled back and nothing was written: a value is missing or out of range for the schema; run `reingest migrate` in case the schema is behind this version, else report it as a bug with this message",
            ),
            (
                store::StoreError::LaterRuns {
                    run_id: "r1".into(),
                    later: vec!["r2 (periods 1-48)".into(), "r3 (periods 5-6)".into()],
                }
                .into(),
                "database: restoring run r1 would overwrite periods that later runs replaced (r2 (periods 1-48), r3 (periods 5-6)); restore those first, or pass --force to put back r1's rows anyway",
            ),
            (
                DifficultyError::NotSettled {
                    problem: InputsProblem::Subsidy(
                        bitcoin_calc::SubsidyError::UnknownHalvingDay {
                            date: date("2028-06-01").naive(),
                            height: 1_050_000,
                            seen_on: date("2028-05-20").naive(),
                            seen_height: 1_051_000,
                        },
                    ),
                }
                .into(),
                "2028-06-01 is past the halving at block 1050000 (an adjustment on 2028-05-20 is at block 1051000), whose day is not known: add it (`reingest difficulty halving 1050000 YYYY-MM-DD`) (the difficulty feed was synced and has nothing that settles it)",
            ),
            (
                DifficultyError::NotSettled {
                    problem: InputsProblem::Subsidy(bitcoin_calc::SubsidyError::Undetermined {
                        date: date("2028-06-01").naive(),
                        height: 1_050_000,
                    }),
                }
                .into(),
                "the block subsidy on 2028-06-01 cannot be determined: the day of the halving at block 1050000 is not known and no difficulty adjustment with a block height shows 2028-06-01 is before it; sync the difficulty feed (`reingest difficulty sync`) or add the halving's day (`reingest difficulty halving 1050000 YYYY-MM-DD`) (the difficulty feed was synced and has nothing that settles it)",
            ),
            (
                RegistryError::FuelTypeConflict(settlement_model::FuelTypeConflict {
                    elexon_bm_unit: "T_WLNYO-4".into(),
                    first: Some("WIND".into()),
                    second: None,
                })
                .into(),
                "BM unit T_WLNYO-4 is listed more than once with different fuel types (\"WIND\" and null); whether it is a wind farm cannot be decided, so nothing was written: correct the list (for the API's list, wait for Elexon to correct it or `reingest bmu import FILE` a corrected copy)",
            ),
            (
                store::StoreError::Derive {
                    hook: Box::new(bitcoin_calc::CalcError::NonPositiveDifficulty {
                        difficulty: rust_decimal::Decimal::ZERO,
                    }),
                }
                .into(),
                "database: summary derivation failed: the Bitcoin network difficulty must be positive, got 0",
            ),
            (
                bitcoin_calc::CalcError::NonPositiveDifficulty {
                    difficulty: rust_decimal::Decimal::NEGATIVE_ONE,
                }
                .into(),
                "bitcoin calculation: the Bitcoin network difficulty must be positive, got -1",
            ),
            (
                PipelineError::Evidence {
                    what: "the evidence of run r1".into(),
                    source: json_error(),
                },
                "internal error: the evidence of run r1: expected value at line 1 column 1",
            ),
            (
                InputError::MigrationsPending {
                    pending: vec!["m1".into(), "m2".into()],
                }
                .into(),
                "the database needs 2 migration(s) (m1, m2); on a shared PostgreSQL only `reingest migrate` changes the schema (it only adds tables, nullable columns and indexes; `reingest migrate --dry-run` shows the SQL), or pass --auto-migrate (library: `Pipeline::prepare`)",
            ),
            (
                InputError::Jobs { jobs: 65, max: 64 }.into(),
                "--jobs must be between 1 and 64, got 65",
            ),
            (
                InputError::File {
                    action: "read",
                    path: "/no/such/file".into(),
                    source: io("gone"),
                }
                .into(),
                "cannot read /no/such/file: gone",
            ),
            (
                InputError::MinerModelsFile {
                    path: "/m.json".into(),
                    source: io("gone"),
                }
                .into(),
                "cannot read miner models file /m.json: gone",
            ),
            (
                InputError::NoArchive.into(),
                "this pipeline has no source archive (`Pipeline::builder` has one; or add one with `Pipeline::with_archive`)",
            ),
            (
                InputError::UnknownRun { run_id: "r9".into() }.into(),
                "no run \"r9\" in the audit log; see `reingest runs`",
            ),
            (
                InputError::UnknownRunOrDate { what: "x".into() }.into(),
                "no run \"x\" in the audit log; give a run id or a date (see `reingest runs`)",
            ),
            (
                InputError::UnknownRunOfDate {
                    run_id: "r9".into(),
                    date: d,
                }
                .into(),
                "no run \"r9\" of 2024-03-21 in the audit log; see `reingest runs --date 2024-03-21`",
            ),
            (
                InputError::NoCommittedRun { date: d }.into(),
                "2024-03-21 has no committed run; see `reingest runs --date 2024-03-21`",
            ),
            (
                InputError::NoArchivedRun { date: d }.into(),
                "2024-03-21 has no committed run whose sources are archived; see `reingest runs --date 2024-03-21`",
            ),
            (
                InputError::NothingToCompare { date: d }.into(),
                "2024-03-21 has fewer than two committed runs to compare; name them: reingest diff 2024-03-21 RUN_A RUN_B",
            ),
            (
                InputError::NoEvidence { run_id: "r9".into() }.into(),
                "run r9 recorded no evidence (it predates this version, or recording failed): replay it without --as-recorded",
            ),
            (
                InputError::BackupPruned {
                    run_id: "r9".into(),
                    pruned_at: chrono::DateTime::from_timestamp(1_700_000_000, 0)
                        .unwrap_or_default(),
                    date: d,
                }
                .into(),
                "run r9 can no longer be restored: `reingest archive prune` deleted its backup on 2023-11-14 22:13 UTC; restore a newer run of 2024-03-21, or reingest the day",
            ),
            (
                RegistryError::ApiUnreadable(elexon_client::FetchError::Internal(
                    "runtime shut down".into(),
                ))
                .into(),
                "cannot fill the BM unit registry from the API: internal error: runtime shut down; try `reingest bmu import FILE` with the platform's mapping file (library: `SettlementStore::replace_bm_units`)",
            ),
            (
                RegistryError::ApiEmpty.into(),
                "the API returned an empty BM unit list; try `reingest bmu import FILE` (library: `SettlementStore::replace_bm_units`)",
            ),
            (
                RegistryError::NoWindUnits.into(),
                "the BM unit registry holds no wind units; run `reingest bmu sync` or `reingest bmu import FILE` (library: `Pipeline::sync_bm_units` or `SettlementStore::replace_bm_units`)",
            ),
            (
                RegistryError::NoUnitsWithId { without_id: 3 }.into(),
                "the BM unit list has no unit with an Elexon id (3 without one), so the registry was left as it is; check the list, or try `reingest bmu import FILE` (library: `Pipeline::replace_registry`)",
            ),
            (
                DifficultyError::NoFeed.into(),
                "no difficulty feed is configured (build the pipeline with `Pipeline::builder`, which has one, or add one with `Pipeline::with_difficulty_feed`)",
            ),
            (
                feed_unreadable().into(),
                "cannot read difficulty from https://feed.test/adjustments: connection reset; use `reingest difficulty set DATE VALUE` or `reingest difficulty import FILE` (library: `SettlementStore::upsert_difficulties`)",
            ),
            (
                DifficultyError::NotSettled {
                    problem: InputsProblem::NoDifficulty { date: d },
                }
                .into(),
                "no Bitcoin difficulty is known on or before 2024-03-21; add it with `reingest difficulty sync`, `reingest difficulty set 2024-03-21 VALUE` or `reingest difficulty import FILE`, or pass --difficulty VALUE for this run (library: `Pipeline::sync_difficulty` on a pipeline with `with_difficulty_feed`, `SettlementStore::upsert_difficulties`, or `Pipeline::with_difficulty_override`) (the difficulty feed was synced and has nothing that settles it)",
            ),
            (
                DifficultyError::FeedCouldNotHelp {
                    problem: InputsProblem::Stale {
                        date: d,
                        in_force: date("2024-01-01").naive(),
                        age_days: 81,
                    },
                    feed_error: Arc::new(feed_unreadable().into()),
                }
                .into(),
                "the newest Bitcoin difficulty known for 2024-03-21 is from 2024-01-01 (81 days before the date's end, more than one adjustment period) and no later adjustment is known; add it with `reingest difficulty sync`, `reingest difficulty set 2024-03-21 VALUE` or `reingest difficulty import FILE`, or pass --difficulty VALUE for this run (library: `Pipeline::sync_difficulty` on a pipeline with `with_difficulty_feed`, `SettlementStore::upsert_difficulties`, or `Pipeline::with_difficulty_override`) (the difficulty feed could not help: cannot read difficulty from https://feed.test/adjustments: connection reset; use `reingest difficulty set DATE VALUE` or `reingest difficulty import FILE` (library: `SettlementStore::upsert_difficulties`))",
            ),
        ]
    }

    /// The line of each error is the one the binary has always printed.
    #[test]
    fn every_line_is_as_before() {
        for (error, want) in cases() {
            assert_eq!(line(&error), want, "{error:?}");
        }
    }

    /// Each remedy of an error is worded in its line.
    #[test]
    fn every_remedy_is_in_the_line() {
        for (error, _) in cases() {
            let text = line(&error);
            for r in error.remedies() {
                let words = crate::remedy::command(&r);
                assert!(text.contains(&words), "{words:?} not in {text}");
            }
        }
    }

    /// A task that panicked is an internal error naming tokio's message.
    #[tokio::test]
    async fn a_panicked_task_is_an_internal_error() {
        let join = tokio::task::spawn(async { panic!("boom") })
            .await
            .expect_err("the task panicked");
        let text = line(&join.into());
        assert!(
            text.starts_with("internal error: blocking task failed: task ")
                && text.ends_with(" panicked with message \"boom\""),
            "{text}"
        );
    }
}
