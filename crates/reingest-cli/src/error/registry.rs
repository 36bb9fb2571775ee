//! Why the BM unit registry a run classifies with cannot be had. Every message names the
//! command-line fix and the library call that does the same.

/// The BM unit registry is empty or holds no wind units and could not be filled, or a unit
/// list was refused by the registry's rules.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The API's BM unit list could not be read.
    #[error(
        "cannot fill the BM unit registry from the API: {0}; try `reingest bmu import FILE` \
         with the platform's mapping file (library: `SettlementStore::replace_bm_units`)"
    )]
    ApiUnreadable(#[source] elexon_client::FetchError),
    /// The API returned no units.
    #[error(
        "the API returned an empty BM unit list; try `reingest bmu import FILE` (library: \
         `SettlementStore::replace_bm_units`)"
    )]
    ApiEmpty,
    /// The registry holds units, but none of them is a wind unit.
    #[error(
        "the BM unit registry holds no wind units; run `reingest bmu sync` or `reingest bmu \
         import FILE` (library: `Pipeline::sync_bm_units` or \
         `SettlementStore::replace_bm_units`)"
    )]
    NoWindUnits,
    /// One unit id is listed with two fuel types: the list is refused, nothing written.
    #[error(transparent)]
    FuelTypeConflict(settlement_model::FuelTypeConflict),
    /// Every unit of the list lacks an Elexon id: nothing could be stored.
    #[error(
        "the BM unit list has no unit with an Elexon id ({without_id} without one), so the \
         registry was left as it is; check the list, or try `reingest bmu import FILE` \
         (library: `Pipeline::replace_registry`)"
    )]
    NoUnitsWithId {
        /// How many units the list held, all without an id.
        without_id: usize,
    },
}
