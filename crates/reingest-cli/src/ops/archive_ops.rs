//! The pipeline's archive operations: filing a run's responses before its swap, `diff` of
//! two runs from their archived responses, and `archive prune`.

use std::sync::Arc;

use settlement_model::{BmRegistry, SettlementDate};
use store::SettlementStore;

use crate::error::{blocking, InputError, PipelineError};
use crate::ops::fetch::FetchedStack;
use crate::pipeline::Pipeline;
use elexon_client::SettlementSource;

impl<S, St> Pipeline<S, St>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    /// Files every fetched body in the archive (if there is one) before the swap; an entry
    /// is whole or absent, so a failed run leaves nothing a later run could misread.
    pub(crate) async fn archive_sources(
        &self,
        fetched: &[FetchedStack],
    ) -> Result<(), PipelineError> {
        let Some(archive) = self.archive() else {
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
            let sources: Vec<(&str, &[u8])> =
                bodies.iter().map(|(f, b)| (*f, b.as_ref())).collect();
            archive.put_sources(&sources)?;
            Ok(())
        })
        .await
    }

    /// What changed in `date` between two runs, from their archived sources. Defaults: the
    /// date's last two runs with sources (`run_b` the newer).
    pub async fn diff(
        &self,
        date: SettlementDate,
        run_a: Option<&str>,
        run_b: Option<&str>,
    ) -> Result<crate::evidence::archive::DiffReport, PipelineError> {
        let archive = self.archive().ok_or(InputError::NoArchive)?;
        let runs = self.with_store(move |s| s.runs(Some(date))).await?;
        let mut with_sources = Vec::new();
        for r in runs.iter().filter(|r| r.kind != "restore" && r.committed()) {
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
        let run_a = crate::evidence::archive::find_run(self.store(), date, Some(&a)).await?;
        let run_b = crate::evidence::archive::find_run(self.store(), date, Some(&b)).await?;
        let sa = crate::evidence::archive::load_run_sources(self.store(), &archive, run_a).await?;
        let sb = crate::evidence::archive::load_run_sources(self.store(), &archive, run_b).await?;
        let registry = BmRegistry::new(self.with_store(|s| s.bm_units()).await?);
        crate::evidence::archive::diff_runs(&sa, &sb, &registry)
    }

    /// Deletes archived sources except those of the newest `keep_last` runs of every date,
    /// and the backups of all but the newest `keep_last` committed runs of every date (at
    /// least the newest run of each date always keeps both). Refused while a run is in
    /// progress.
    pub async fn prune_archive(
        &self,
        keep_last: usize,
    ) -> Result<crate::evidence::archive::PruneReport, PipelineError> {
        let archive = self.archive().ok_or(InputError::NoArchive)?;
        let store = Arc::clone(self.store());
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
}
