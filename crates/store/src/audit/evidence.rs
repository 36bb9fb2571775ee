//! The evidence of a run: registry snapshots (content-addressed) and one evidence document per
//! run. The store keeps the text; the pipeline defines what the document says.

use diesel::prelude::*;

use crate::db::{on_db, Db};
use crate::schema::{registry_snapshots as rs, run_evidence as re};
use crate::{RunEvidence, StoreError};

/// Writes a run's evidence and, unless already stored, the registry snapshot it names.
pub(crate) fn record(
    db: &mut Db<'_>,
    evidence: &RunEvidence,
    registry_json: &str,
) -> Result<(), StoreError> {
    on_db!(db, c => diesel::insert_into(rs::table)
        .values((rs::hash.eq(&evidence.registry_hash), rs::units.eq(registry_json)))
        .on_conflict(rs::hash)
        .do_nothing()
        .execute(c))?;
    on_db!(db, c => diesel::insert_into(re::table)
        .values((
            re::run_id.eq(&evidence.run_id),
            re::fingerprint.eq(&evidence.fingerprint),
            re::registry_hash.eq(&evidence.registry_hash),
            re::document.eq(&evidence.document),
        ))
        .on_conflict(re::run_id)
        .do_update()
        .set((
            re::fingerprint.eq(&evidence.fingerprint),
            re::registry_hash.eq(&evidence.registry_hash),
            re::document.eq(&evidence.document),
        ))
        .execute(c))?;
    Ok(())
}

/// The evidence of `run_id`, if it recorded any.
pub(crate) fn read(db: &mut Db<'_>, run_id: &str) -> Result<Option<RunEvidence>, StoreError> {
    let row: Option<(String, String, String, String)> = on_db!(db, c => re::table
        .filter(re::run_id.eq(run_id))
        .select((re::run_id, re::fingerprint, re::registry_hash, re::document))
        .first(c)
        .optional())?;
    Ok(row.map(
        |(run_id, fingerprint, registry_hash, document)| RunEvidence {
            run_id,
            fingerprint,
            registry_hash,
            document,
        },
    ))
}

/// The registry snapshot filed under `hash`, as stored.
pub(crate) fn registry_snapshot(db: &mut Db<'_>, hash: &str) -> Result<Option<String>, StoreError> {
    Ok(on_db!(db, c => rs::table
        .filter(rs::hash.eq(hash))
        .select(rs::units)
        .first(c)
        .optional())?)
}
