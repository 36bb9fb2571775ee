//! A pipeline on the in-memory seams, set up the way an embedding service would set up its
//! own store: the difficulty table and the halving days filled through [`DifficultyTable`],
//! the BM unit registry left empty for the first run to fill from the source.

use std::sync::Arc;

use rust_decimal::Decimal;
use settlement_model::{DifficultyEntry, SettlementDate};
use store::{DifficultyTable, StoreError};

use crate::pipeline::{Operator, Pipeline, PipelineConfig};
use crate::testing::{CannedSource, MemoryStore};

/// The pipeline the unit tests run: canned stacks, the memory store, the memory store as
/// the source archive too.
pub(crate) type SeamPipeline = Pipeline<CannedSource, MemoryStore>;

/// Difficulty adjustments every two weeks around the test dates (February and March 2024,
/// before the fourth halving), without block heights, as a CSV import would leave them.
const ADJUSTMENTS: [(&str, i64, u32); 6] = [
    ("2024-01-18", 7_519_137_812_263_542, 2),
    ("2024-02-01", 7_535_080_565_735_621, 2),
    ("2024-02-15", 7_918_864_542_856_910, 2),
    ("2024-02-29", 8_314_835_518_923_977, 2),
    ("2024-03-14", 8_388_099_845_016_844, 2),
    ("2024-03-28", 8_638_855_892_517_100, 2),
];

/// `text` as a settlement date (test input, known to be valid).
pub(crate) fn day(text: &str) -> SettlementDate {
    text.parse()
        .unwrap_or_else(|e| panic!("test date {text:?}: {e}"))
}

/// A memory store holding what a run needs besides the registry: difficulty adjustments
/// around the test dates and the known halving days.
pub(crate) fn seeded_store() -> Result<MemoryStore, StoreError> {
    let store = MemoryStore::new();
    let entries: Vec<DifficultyEntry> = ADJUSTMENTS
        .iter()
        .map(|(date, mantissa, scale)| {
            let date = date
                .parse()
                .unwrap_or_else(|e| panic!("adjustment day {date:?}: {e}"));
            DifficultyEntry::new(date, Decimal::new(*mantissa, *scale))
        })
        .collect();
    store.upsert_difficulties(&entries)?;
    for halving in bitcoin_calc::known_halvings() {
        store.upsert_halving(halving, "test")?;
    }
    Ok(store)
}

/// The settings of every test pipeline: the default miner models, a fixed operator.
pub(crate) fn config() -> PipelineConfig {
    PipelineConfig {
        operator: Operator {
            user: "tester".into(),
            host: "memory".into(),
        },
        tool_version: "test".into(),
        ..PipelineConfig::default()
    }
}

/// A pipeline over a fresh [`CannedSource`] and a [`seeded_store`], archiving into the
/// same store.
pub(crate) fn pipeline() -> SeamPipeline {
    let store = Arc::new(seeded_store().unwrap_or_else(|e| panic!("seeding the store: {e}")));
    Pipeline::new(CannedSource::new(), Arc::clone(&store), config()).with_archive(store)
}
