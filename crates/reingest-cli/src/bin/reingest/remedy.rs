//! The library's remedies ([`Remedy`]) as this binary's commands and flags, and the words
//! each kind of error puts around them: what the library leaves to its caller.

use reingest::error::{DifficultyError, InputError, InputsProblem, RegistryError, Remedy};
use reingest::PipelineError;

/// The command or flag that does `remedy`, in backticks as the messages quote them (the
/// library calls that do the same are named by the sentences of [`suffix`]).
pub fn command(remedy: &Remedy) -> String {
    match remedy {
        Remedy::SyncDifficultyFeed => "`reingest difficulty sync`".into(),
        Remedy::SetDifficulty { date: Some(date) } => {
            format!("`reingest difficulty set {date} VALUE`")
        }
        Remedy::SetDifficulty { date: None } => "`reingest difficulty set DATE VALUE`".into(),
        Remedy::ImportDifficulty => "`reingest difficulty import FILE`".into(),
        Remedy::DifficultyOverride => "--difficulty VALUE".into(),
        Remedy::ImportRegistry => "`reingest bmu import FILE`".into(),
        Remedy::SyncRegistry => "`reingest bmu sync`".into(),
        Remedy::Migrate => "`reingest migrate`".into(),
        Remedy::AutoMigrate => "--auto-migrate".into(),
        Remedy::ListRuns { date: None } => "`reingest runs`".into(),
        Remedy::ListRuns { date: Some(date) } => format!("`reingest runs --date {date}`"),
        Remedy::NameRunsToCompare { date } => format!("reingest diff {date} RUN_A RUN_B"),
        Remedy::ReplayWithCurrentInputs => "--as-recorded".into(),
        Remedy::RestoreNewerRun { date } => format!("restore a newer run of {date}"),
        Remedy::Reingest { .. } => "reingest the day".into(),
        Remedy::AddArchive => "`Pipeline::with_archive`".into(),
        Remedy::AddDifficultyFeed => "`Pipeline::with_difficulty_feed`".into(),
        Remedy::WaitForPublication => "wait for Elexon to publish them".into(),
        Remedy::AllowMissingPeriods => "--allow-missing-periods".into(),
        Remedy::AddHalving { height } => {
            format!("`reingest difficulty halving {height} YYYY-MM-DD`")
        }
        Remedy::RestoreLaterRunsFirst => "restore those first".into(),
        Remedy::ForceRestore { .. } => "--force".into(),
        Remedy::TryAgain => "run the command again".into(),
        Remedy::CheckOtherWriters => "check that no other tool deleted rows meanwhile".into(),
        Remedy::ReportBug => "report it".into(),
        // A remedy of a newer library: named as the library names it.
        other => format!("{other:?}"),
    }
}

/// The remedies of `remedies`' commands, `a`, `a or b`, `a, b or c`.
fn either(remedies: &[Remedy]) -> String {
    let words: Vec<String> = remedies.iter().map(command).collect();
    match words.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// The headline of `e` where this binary words it itself (a flag of its own, a command
/// that did what the message reports); `None`: the library's message.
pub fn headline(e: &PipelineError) -> Option<String> {
    match e {
        PipelineError::Input(InputError::Jobs { jobs, max }) => {
            Some(format!("--jobs must be between 1 and {max}, got {jobs}"))
        }
        PipelineError::Input(InputError::BackupPruned {
            run_id, pruned_at, ..
        }) => Some(format!(
            "run {run_id} can no longer be restored: `reingest archive prune` deleted its backup \
             on {}",
            pruned_at.format("%Y-%m-%d %H:%M UTC")
        )),
        _ => None,
    }
}

/// What follows the message and its causes: the remedies of `e` as the commands that fix
/// it, in the sentence its kind of error has always had (empty when it has none).
pub fn suffix(e: &PipelineError) -> String {
    let remedies = e.remedies();
    if remedies.is_empty() {
        return String::new();
    }
    match e {
        PipelineError::Unpublished { .. } => format!(
            "; wait for Elexon to publish them, or record them as missing ({}), which leaves \
             the day incomplete",
            command(&Remedy::AllowMissingPeriods)
        ),
        PipelineError::Input(input) => input_suffix(input, &remedies),
        PipelineError::Store(store::StoreError::RunNotFound { .. }) => {
            format!(" (see {})", either(&remedies))
        }
        PipelineError::Store(store::StoreError::LaterRuns { run_id, .. }) => format!(
            "; {}, or pass {} to put back {run_id}'s rows anyway",
            command(&Remedy::RestoreLaterRunsFirst),
            command(&Remedy::ForceRestore {
                run_id: run_id.clone()
            })
        ),
        PipelineError::Store(store::StoreError::Constraint { kind, .. }) => {
            constraint_suffix(*kind)
        }
        PipelineError::Registry(registry) => registry_suffix(registry, &remedies),
        PipelineError::Difficulty(DifficultyError::NoFeed) => format!(
            " (build the pipeline with `Pipeline::builder`, which has one, or add one with {})",
            either(&remedies)
        ),
        PipelineError::Difficulty(DifficultyError::FeedUnreadable { .. }) => format!(
            "; use {} (library: `SettlementStore::upsert_difficulties`)",
            either(&remedies)
        ),
        PipelineError::Difficulty(
            DifficultyError::NotSettled { problem }
            | DifficultyError::FeedCouldNotHelp { problem, .. },
        ) => problem_suffix(problem),
        _ => format!("; see {}", either(&remedies)),
    }
}

fn input_suffix(e: &InputError, remedies: &[Remedy]) -> String {
    match e {
        InputError::MigrationsPending { .. } => format!(
            "; on a shared PostgreSQL only {} changes the schema (it only adds tables, nullable \
             columns and indexes; `reingest migrate --dry-run` shows the SQL), or pass {} \
             (library: `Pipeline::prepare`)",
            command(&Remedy::Migrate),
            command(&Remedy::AutoMigrate)
        ),
        InputError::NoArchive => format!(
            " (`Pipeline::builder` has one; or add one with {})",
            either(remedies)
        ),
        InputError::UnknownRunOrDate { .. } => {
            format!("; give a run id or a date (see {})", either(remedies))
        }
        InputError::NothingToCompare { .. } => format!("; name them: {}", either(remedies)),
        InputError::NoEvidence { .. } => format!(
            ": replay it without {}",
            command(&Remedy::ReplayWithCurrentInputs)
        ),
        InputError::BackupPruned { .. } => {
            let words: Vec<String> = remedies.iter().map(command).collect();
            format!("; {}", words.join(", or "))
        }
        _ => format!("; see {}", either(remedies)),
    }
}

/// What to do about a write the schema refused, in the words the store's message had.
fn constraint_suffix(kind: store::ConstraintKind) -> String {
    let migrate = command(&Remedy::Migrate);
    let again = command(&Remedy::TryAgain);
    let report = command(&Remedy::ReportBug);
    match kind {
        store::ConstraintKind::Unique => format!(
            ": another process probably wrote the same rows at the same time, so {again}; if \
             it fails the same way, the input names one key twice or this is a bug in \
             reingest: {report} with this message"
        ),
        store::ConstraintKind::ForeignKey => format!(
            ": a row refers to one that is missing; run {migrate} in case the schema is behind \
             this version, {}, and {again}",
            command(&Remedy::CheckOtherWriters)
        ),
        _ => format!(
            ": a value is missing or out of range for the schema; run {migrate} in case the \
             schema is behind this version, else {report} as a bug with this message"
        ),
    }
}

fn registry_suffix(e: &RegistryError, remedies: &[Remedy]) -> String {
    match e {
        RegistryError::FuelTypeConflict(_) => format!(
            " (for the API's list, wait for Elexon to correct it or {} a corrected copy)",
            either(remedies)
        ),
        RegistryError::ApiUnreadable(_) => format!(
            "; try {} with the platform's mapping file (library: \
             `SettlementStore::replace_bm_units`)",
            either(remedies)
        ),
        RegistryError::NoWindUnits => format!(
            "; run {} (library: `Pipeline::sync_bm_units` or \
             `SettlementStore::replace_bm_units`)",
            either(remedies)
        ),
        RegistryError::NoUnitsWithId { .. } => format!(
            "; check the list, or try {} (library: `Pipeline::replace_registry`)",
            either(remedies)
        ),
        _ => format!(
            "; try {} (library: `SettlementStore::replace_bm_units`)",
            either(remedies)
        ),
    }
}

/// How to add a missing difficulty: the commands, then the flag for this run only, then
/// the library calls that do the same.
fn problem_suffix(problem: &InputsProblem) -> String {
    let remedies = problem.remedies();
    let halving = remedies
        .iter()
        .find(|r| matches!(r, Remedy::AddHalving { .. }));
    if let Some(halving) = halving {
        return if remedies.contains(&Remedy::SyncDifficultyFeed) {
            format!(
                "; sync the difficulty feed ({}) or add the halving's day ({})",
                command(&Remedy::SyncDifficultyFeed),
                command(halving)
            )
        } else {
            format!(": add it ({})", command(halving))
        };
    }
    let (flags, commands): (Vec<Remedy>, Vec<Remedy>) = remedies
        .into_iter()
        .partition(|r| matches!(r, Remedy::DifficultyOverride));
    if commands.is_empty() {
        return String::new();
    }
    let pass = flags
        .first()
        .map(|f| format!(", or pass {} for this run", command(f)))
        .unwrap_or_default();
    format!(
        "; add it with {}{pass} (library: `Pipeline::sync_difficulty` on a pipeline with \
         `with_difficulty_feed`, `SettlementStore::upsert_difficulties`, or \
         `Pipeline::with_difficulty_override`)",
        either(&commands)
    )
}
