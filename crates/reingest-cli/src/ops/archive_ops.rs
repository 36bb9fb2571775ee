//! The pipeline's archive operations: filing a run's responses before its swap, `diff` of
//! two runs from their archived responses, and `archive prune`.

use std::sync::Arc;

use settlement_model::{BmRegistry, SettlementDate};
use store::{RunKind, SettlementStore};

use crate::error::{blocking, InputError, PipelineError};
use crate::ops::context::Context;
use crate::ops::fetch::FetchedStack;
use elexon_client::SettlementSource;

/// Files every fetched body in the archive (if there is one) before the swap; an entry
/// is whole or absent, so a failed run leaves nothing a later run could misread.
pub(crate) async fn archive_sources<S, St>(
    cx: &Context<S, St>,
    fetched: &[FetchedStack],
) -> Result<(), PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let Some(archive) = cx.archive.clone() else {
        return Ok(());
    };
    let bodies: Vec<(&'static str, bytes::Bytes)> = fetched
        .iter()
        .filter_map(|f| {
            f.response
                .as_ref()
                .map(|r| (r.format.as_str(), r.body.clone()))
        })
        .collect();
    blocking(move || {
        let sources: Vec<(&str, &[u8])> = bodies.iter().map(|(f, b)| (*f, b.as_ref())).collect();
        archive.put_sources(&sources)?;
        Ok(())
    })
    .await
}

/// The work of [`Pipeline::diff`](crate::Pipeline::diff).
pub(crate) async fn diff<S, St>(
    cx: &Context<S, St>,
    date: SettlementDate,
    run_a: Option<&str>,
    run_b: Option<&str>,
) -> Result<crate::evidence::archive::DiffReport, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let archive = cx.archive.clone().ok_or(InputError::NoArchive)?;
    let runs = cx.with_store(move |s| s.runs(Some(date))).await?;
    let mut with_sources = Vec::new();
    for r in runs
        .iter()
        .filter(|r| r.kind != RunKind::Restore && r.committed())
    {
        with_sources.push(r.run_id.clone());
    }
    let (a, b) = match (run_a, run_b) {
        (Some(a), Some(b)) => (a.to_owned(), b.to_owned()),
        (Some(a), None) => (
            a.to_owned(),
            with_sources
                .first()
                .cloned()
                .ok_or(InputError::NoCommittedRun { date })?,
        ),
        _ => match with_sources.as_slice() {
            [b, a, ..] => (a.clone(), b.clone()),
            _ => return Err(InputError::NothingToCompare { date }.into()),
        },
    };
    let run_a = crate::evidence::archive::find_run(&cx.store, date, Some(&a)).await?;
    let run_b = crate::evidence::archive::find_run(&cx.store, date, Some(&b)).await?;
    let sa = crate::evidence::archive::load_run_sources(&cx.store, &archive, run_a).await?;
    let sb = crate::evidence::archive::load_run_sources(&cx.store, &archive, run_b).await?;
    let registry = BmRegistry::new(cx.with_store(|s| s.bm_units()).await?);
    crate::evidence::archive::diff_runs(&sa, &sb, &registry)
}

/// The work of [`Pipeline::prune_archive`](crate::Pipeline::prune_archive).
pub(crate) async fn prune_archive<S, St>(
    cx: &Context<S, St>,
    keep_last: usize,
) -> Result<crate::evidence::archive::PruneReport, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let archive = cx.archive.clone().ok_or(InputError::NoArchive)?;
    let store = Arc::clone(&cx.store);
    blocking(move || {
        let runs = store.runs(None)?;
        let busy = crate::evidence::archive::unfinished(&runs);
        if !busy.is_empty() {
            return Err(InputError::RunsInProgress { runs: busy }.into());
        }
        let (backups_kept, old_backups) =
            crate::evidence::archive::backups_to_keep(&runs, keep_last);
        let mut log_of = |id: &str| -> Result<Vec<String>, PipelineError> {
            Ok(store
                .run_fetch_log(id)?
                .into_iter()
                .filter_map(|e| e.source_hash)
                .collect())
        };
        let (keep, runs_kept) =
            crate::evidence::archive::hashes_to_keep(&runs, keep_last, &mut log_of)?;
        let all = archive.source_hashes()?;
        let doomed: Vec<String> = all.iter().filter(|h| !keep.contains(*h)).cloned().collect();
        let deleted = archive.delete_sources(&doomed)?;
        let backup_rows_deleted = store.delete_backups(&old_backups)?;
        Ok(crate::evidence::archive::PruneReport {
            kept: all.len() - doomed.len(),
            deleted,
            runs_kept,
            backups_kept: backups_kept.len(),
            backup_rows_deleted,
        })
    })
    .await
}
