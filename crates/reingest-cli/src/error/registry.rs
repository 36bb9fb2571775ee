//! Why the BM unit registry a run classifies with cannot be had. What fixes it is
//! [`RegistryError::remedies`].

use super::Remedy;

/// The BM unit registry is empty or holds no wind units and could not be filled, or a unit
/// list was refused by the registry's rules.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The API's BM unit list could not be read.
    #[error("cannot fill the BM unit registry from the API")]
    ApiUnreadable(#[source] elexon_client::FetchError),
    /// The API returned no units.
    #[error("the API returned an empty BM unit list")]
    ApiEmpty,
    /// The registry holds units, but none of them is a wind unit.
    #[error("the BM unit registry holds no wind units")]
    NoWindUnits,
    /// One unit id is listed with two fuel types: the list is refused, nothing written.
    #[error(transparent)]
    FuelTypeConflict(settlement_model::FuelTypeConflict),
    /// Every unit of the list lacks an Elexon id: nothing could be stored.
    #[error(
        "the BM unit list has no unit with an Elexon id ({without_id} without one), so the \
         registry was left as it is"
    )]
    NoUnitsWithId {
        /// How many units the list held, all without an id.
        without_id: usize,
    },
}

impl RegistryError {
    /// What fills the registry, the preferred fix first (empty for a refused list).
    pub fn remedies(&self) -> Vec<Remedy> {
        match self {
            Self::ApiUnreadable(_) | Self::ApiEmpty | Self::NoUnitsWithId { .. } => {
                vec![Remedy::ImportRegistry]
            }
            Self::NoWindUnits => vec![Remedy::SyncRegistry, Remedy::ImportRegistry],
            // The API's list is corrected by Elexon; a corrected copy can be imported.
            Self::FuelTypeConflict(_) => vec![Remedy::ImportRegistry],
        }
    }

    /// Whether the message leaves out the source's text.
    pub(crate) fn leaves_out_cause(&self) -> bool {
        matches!(self, Self::ApiUnreadable(_))
    }
}
