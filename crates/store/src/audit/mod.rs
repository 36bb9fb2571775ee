//! The audit log's SQL, all of it: reading runs (one, a date's, a page, the dates a range
//! did: [`runs`]), writing them ([`write`]), and each run's evidence ([`evidence`]). The
//! [`AuditLog`](crate::AuditLog) role of [`DieselStore`](crate::DieselStore) delegates here.

pub(crate) mod evidence;
pub(crate) mod runs;
pub(crate) mod write;

pub use runs::RunsQuery;
