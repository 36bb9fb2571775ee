//! The benches that build on the shared harness of `bench_e2e.rs` (the store's swap, a
//! range from the archive, a year's `status`, and all of them in one table): their
//! arguments and entry points. Kept apart from the harness so the harness imports none of
//! the benches that use it.

use std::process::ExitCode;

use anyhow::Result;

use crate::bench_e2e::{drive, BaselineOpts, Bench, Common, DayOpts, YearOpts};
use crate::bench_range::RangeOpts;
use crate::bench_status::StatusOpts;
use crate::bench_store::StoreOpts;

/// `bench all`.
#[derive(Debug, clap::Args)]
pub struct AllArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    day: DayOpts,
    #[command(flatten)]
    year: YearOpts,
    #[command(flatten)]
    baseline: BaselineOpts,
    #[command(flatten)]
    store: StoreOpts,
    #[command(flatten)]
    range: RangeOpts,
}

/// `bench range`.
#[derive(Debug, clap::Args)]
pub struct RangeArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    range: RangeOpts,
}

/// `bench status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    status: StatusOpts,
}

/// `bench store`.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    store: StoreOpts,
}

/// Entry point of `bench store`.
pub fn store(args: &StoreArgs) -> Result<ExitCode> {
    drive(&args.common, async |b: &mut Bench| {
        b.store(&args.store).await
    })
}

/// Entry point of `bench range`.
pub fn range(args: &RangeArgs) -> Result<ExitCode> {
    drive(&args.common, async |b: &mut Bench| {
        b.range(&args.range).await
    })
}

/// `bench status`: a year's `reingest status` on PostgreSQL.
pub fn status(args: &StatusArgs) -> Result<ExitCode> {
    drive(&args.common, async |b: &mut Bench| {
        b.status(&args.status).await
    })
}

/// Entry point of `bench all`: day, store, year, baseline, range, one table.
pub fn all(args: &AllArgs) -> Result<ExitCode> {
    drive(&args.common, async |b: &mut Bench| {
        b.day(&args.day).await?;
        b.store(&args.store).await?;
        b.year(&args.year).await?;
        b.baseline(&args.baseline, &args.year.from, &args.year.to)
            .await?;
        b.range(&args.range).await
    })
}
