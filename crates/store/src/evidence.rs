//! The evidence of a run: registry snapshots (content-addressed) and one evidence document per
//! run. The store keeps the text; the pipeline defines what the document says.

use diesel::sql_types::Text;
use diesel::QueryableByName;

use crate::db::{Db, Val};
use crate::{RunEvidence, StoreError};

#[derive(QueryableByName)]
struct EvidenceRow {
    #[diesel(sql_type = Text)]
    run_id: String,
    #[diesel(sql_type = Text)]
    fingerprint: String,
    #[diesel(sql_type = Text)]
    registry_hash: String,
    #[diesel(sql_type = Text)]
    document: String,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    v: String,
}

/// Writes a run's evidence and, unless already stored, the registry snapshot it names.
pub(crate) fn record(
    db: &mut Db<'_>,
    evidence: &RunEvidence,
    registry_json: &str,
) -> Result<(), StoreError> {
    db.exec(
        "INSERT INTO registry_snapshots (hash, units) VALUES ($1, $2) \
         ON CONFLICT (hash) DO NOTHING",
        &[Val::text(&evidence.registry_hash), Val::text(registry_json)],
    )?;
    db.exec(
        "INSERT INTO run_evidence (run_id, fingerprint, registry_hash, document) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (run_id) DO UPDATE SET \
         fingerprint = excluded.fingerprint, registry_hash = excluded.registry_hash, \
         document = excluded.document",
        &[
            Val::text(&evidence.run_id),
            Val::text(&evidence.fingerprint),
            Val::text(&evidence.registry_hash),
            Val::text(&evidence.document),
        ],
    )?;
    Ok(())
}

/// The evidence of `run_id`, if it recorded any.
pub(crate) fn read(db: &mut Db<'_>, run_id: &str) -> Result<Option<RunEvidence>, StoreError> {
    let rows: Vec<EvidenceRow> = db.load(
        "SELECT run_id, fingerprint, registry_hash, document FROM run_evidence \
         WHERE run_id = $1",
        &[Val::text(run_id)],
    )?;
    Ok(rows.into_iter().next().map(|r| RunEvidence {
        run_id: r.run_id,
        fingerprint: r.fingerprint,
        registry_hash: r.registry_hash,
        document: r.document,
    }))
}

/// The registry snapshot filed under `hash`, as stored.
pub(crate) fn registry_snapshot(db: &mut Db<'_>, hash: &str) -> Result<Option<String>, StoreError> {
    let rows: Vec<TextRow> = db.load(
        "SELECT units AS v FROM registry_snapshots WHERE hash = $1",
        &[Val::text(hash)],
    )?;
    Ok(rows.into_iter().next().map(|r| r.v))
}
