//! Stack items as the API publishes them, and BM Unit reference data.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Which settlement stack an item comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The bid stack (`/stack/all/bid/…`): the unit is paid to reduce output.
    Bid,
    /// The offer stack (`/stack/all/offer/…`).
    Offer,
}

impl Side {
    /// Both sides, bid first.
    pub const BOTH: [Side; 2] = [Side::Bid, Side::Offer];

    /// The path segment and stored name: `bid` or `offer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Bid => "bid",
            Side::Offer => "offer",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Side {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bid" => Ok(Side::Bid),
            "offer" => Ok(Side::Offer),
            other => Err(format!(
                "unknown stack side {other:?} (expected bid or offer)"
            )),
        }
    }
}

/// One item of a settlement bid or offer stack, with the API's field names (camelCase in
/// JSON). Every numeric field is an exact decimal, parsed from text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackItem {
    /// The settlement date.
    pub settlement_date: NaiveDate,
    /// The settlement period, 1-based.
    pub settlement_period: u8,
    /// When the period starts (UTC), if published.
    pub start_time: Option<DateTime<Utc>>,
    /// When Elexon's calculation run produced the item.
    pub created_date_time: Option<DateTime<Utc>>,
    /// Rank in the stack.
    pub sequence_number: Option<i64>,
    /// The Elexon BM Unit id (e.g. `T_WHILW-1`); `None` for system rows without a unit.
    pub id: Option<String>,
    /// The acceptance id.
    pub acceptance_id: Option<i64>,
    /// The bid-offer pair id.
    pub bid_offer_pair_id: Option<i64>,
    /// CADL flag; `None` means false.
    pub cadl_flag: Option<bool>,
    /// System-operator flag: `true` is a constraint action.
    pub so_flag: Option<bool>,
    /// STOR provider flag.
    pub stor_provider_flag: Option<bool>,
    /// Whether the price was repriced.
    pub repriced_indicator: Option<bool>,
    /// Reserve scarcity price.
    pub reserve_scarcity_price: Option<Decimal>,
    /// Original price, £/MWh.
    pub original_price: Option<Decimal>,
    /// Volume, MWh; negative for bids.
    pub volume: Decimal,
    /// DMAT-adjusted volume.
    pub dmat_adjusted_volume: Option<Decimal>,
    /// Arbitrage-adjusted volume.
    pub arbitrage_adjusted_volume: Option<Decimal>,
    /// NIV-adjusted volume.
    pub niv_adjusted_volume: Option<Decimal>,
    /// PAR-adjusted volume.
    pub par_adjusted_volume: Option<Decimal>,
    /// Final price, £/MWh.
    pub final_price: Option<Decimal>,
    /// Transmission loss multiplier.
    pub transmission_loss_multiplier: Option<Decimal>,
    /// TLM-adjusted volume.
    pub tlm_adjusted_volume: Option<Decimal>,
    /// TLM-adjusted cost.
    pub tlm_adjusted_cost: Option<Decimal>,
}

impl StackItem {
    /// A minimal item: the required fields set, everything else null. Handy in tests and
    /// simulators.
    pub fn new(settlement_date: NaiveDate, settlement_period: u8, volume: Decimal) -> Self {
        Self {
            settlement_date,
            settlement_period,
            start_time: None,
            created_date_time: None,
            sequence_number: None,
            id: None,
            acceptance_id: None,
            bid_offer_pair_id: None,
            cadl_flag: None,
            so_flag: None,
            stor_provider_flag: None,
            repriced_indicator: None,
            reserve_scarcity_price: None,
            original_price: None,
            volume,
            dmat_adjusted_volume: None,
            arbitrage_adjusted_volume: None,
            niv_adjusted_volume: None,
            par_adjusted_volume: None,
            final_price: None,
            transmission_loss_multiplier: None,
            tlm_adjusted_volume: None,
            tlm_adjusted_cost: None,
        }
    }
}

/// One BM Unit of the reference data (`/reference/bmunits/all`, or the platform's mapping
/// file). Field names follow the API (camelCase in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BmUnit {
    /// The Elexon BM Unit id, which the stack's `id` joins (e.g. `T_WHILW-1`).
    pub elexon_bm_unit: String,
    /// The National Grid BM Unit id (e.g. `WHILW-1`).
    #[serde(default)]
    pub national_grid_bm_unit: Option<String>,
    /// The unit's name.
    #[serde(default)]
    pub bm_unit_name: Option<String>,
    /// The lead party's name.
    #[serde(default)]
    pub lead_party_name: Option<String>,
    /// Fuel type: `WIND`, `CCGT`, …; `None` when unpublished.
    #[serde(default)]
    pub fuel_type: Option<String>,
    /// Generation capacity, MW.
    #[serde(default)]
    pub generation_capacity: Option<Decimal>,
}

impl BmUnit {
    /// Whether the unit is a wind farm (`fuelType == "WIND"`).
    pub fn is_wind(&self) -> bool {
        self.fuel_type.as_deref() == Some("WIND")
    }
}

/// Where the BM unit registry came from, which decides whether a run may refresh it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryOrigin {
    /// Filled from the API (`bmu sync`, or a first run): a run may refresh it.
    Api,
    /// Imported from the operator's file (`bmu import`): left as the operator made it.
    File,
}

impl RegistryOrigin {
    /// The stored text: `api` or `file`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RegistryOrigin::Api => "api",
            RegistryOrigin::File => "file",
        }
    }
}

impl FromStr for RegistryOrigin {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "api" => Ok(RegistryOrigin::Api),
            "file" => Ok(RegistryOrigin::File),
            other => Err(format!("unknown registry origin {other:?} (api, file)")),
        }
    }
}

/// The BM Unit registry, indexed by Elexon BM Unit id.
///
/// ```
/// use settlement_model::{BmRegistry, BmUnit};
/// let reg = BmRegistry::new(vec![BmUnit {
///     elexon_bm_unit: "T_WHILW-1".into(), national_grid_bm_unit: None, bm_unit_name: None,
///     lead_party_name: Some("ScottishPower".into()), fuel_type: Some("WIND".into()),
///     generation_capacity: None,
/// }]);
/// assert!(reg.is_wind("T_WHILW-1"));
/// assert!(!reg.is_wind("T_OTHER-1"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct BmRegistry {
    units: HashMap<String, BmUnit>,
}

impl BmRegistry {
    /// Builds the registry; a later unit with the same id replaces an earlier one.
    pub fn new(units: impl IntoIterator<Item = BmUnit>) -> Self {
        Self {
            units: units
                .into_iter()
                .map(|u| (u.elexon_bm_unit.clone(), u))
                .collect(),
        }
    }

    /// The unit with this Elexon id.
    pub fn get(&self, id: &str) -> Option<&BmUnit> {
        self.units.get(id)
    }

    /// Whether `id` is a known wind unit.
    pub fn is_wind(&self, id: &str) -> bool {
        self.get(id).is_some_and(BmUnit::is_wind)
    }

    /// How many units the registry holds.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// Whether the registry is empty.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// How many wind units the registry holds.
    pub fn wind_count(&self) -> usize {
        self.units.values().filter(|u| u.is_wind()).count()
    }

    /// Every unit, in no particular order.
    pub fn units(&self) -> impl Iterator<Item = &BmUnit> {
        self.units.values()
    }
}
