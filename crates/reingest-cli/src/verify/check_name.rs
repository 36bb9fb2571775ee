//! The names of verification's checks, as an enum: code compares [`CheckName`]s, never
//! strings, and every report (text, JSON, evidence) shows the same stable snake_case name.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! check_names {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)*) => {
        /// The stable, machine-readable name of a check (its `name` in `--json`).
        ///
        /// ```
        /// use reingest::CheckName;
        /// assert_eq!(CheckName::DailyMatchesRecords.as_str(), "daily_matches_records");
        /// assert_eq!(CheckName::from("matches_api"), CheckName::MatchesApi);
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum CheckName {
            $($(#[doc = $doc])* $variant,)*
            /// A name this version does not know (read from an older run's evidence).
            Other(String),
        }

        impl CheckName {
            /// The name as shown in every report.
            pub fn as_str(&self) -> &str {
                match self {
                    $(CheckName::$variant => $name,)*
                    CheckName::Other(name) => name,
                }
            }
        }

        impl From<&str> for CheckName {
            fn from(name: &str) -> Self {
                match name {
                    $($name => CheckName::$variant,)*
                    other => CheckName::Other(other.to_owned()),
                }
            }
        }
    };
}

check_names! {
    /// Every period of the day was fetched on both sides.
    PeriodsFetched => "periods_fetched",
    /// The stored records are the ones the run processed.
    RecordsMatchProcessed => "records_match_processed",
    /// The daily summary equals the sum of the day's records.
    DailyMatchesRecords => "daily_matches_records",
    /// The monthly summary equals the sum of its daily summaries.
    MonthlyMatchesDailies => "monthly_matches_dailies",
    /// The yearly summary equals the sum of its monthly summaries.
    YearlyMatchesMonthlies => "yearly_matches_monthlies",
    /// Each record's payment equals its volume times its price.
    PaymentsMatchPrices => "payments_match_prices",
    /// One bitcoin row per record and miner model.
    BitcoinRowsPerRecord => "bitcoin_rows_per_record",
    /// Each bitcoin row equals `bitcoin-calc`'s figure for its record.
    BitcoinRowsRecomputed => "bitcoin_rows_recomputed",
    /// One summary row per key in each summary table.
    OneSummaryRowPerKey => "one_summary_row_per_key",
    /// The daily bitcoin summary equals the sum of the day's bitcoin rows.
    BitcoinDailyMatchesRows => "bitcoin_daily_matches_rows",
    /// The monthly bitcoin summary equals the sum of its daily ones.
    BitcoinMonthlyMatchesDailies => "bitcoin_monthly_matches_dailies",
    /// The yearly bitcoin summary equals the sum of its monthly ones.
    BitcoinYearlyMatchesMonthlies => "bitcoin_yearly_matches_monthlies",
    /// The rows a replay wrote have the fingerprint the original run recorded.
    FingerprintMatchesRecorded => "fingerprint_matches_recorded",
    /// The day's energy is within the operator's expectation.
    ExpectedEnergy => "expected_energy",
    /// The day's payment is within the operator's expectation.
    ExpectedPayment => "expected_payment",
    /// The stored periods equal a fresh fetch of the API.
    MatchesApi => "matches_api",
    /// A dry run: nothing was written, so nothing was checked.
    DryRun => "dry_run",
}

impl From<String> for CheckName {
    fn from(name: String) -> Self {
        CheckName::from(name.as_str())
    }
}

impl From<CheckName> for String {
    fn from(name: CheckName) -> Self {
        name.as_str().to_owned()
    }
}

impl fmt::Display for CheckName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl PartialEq<&str> for CheckName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::CheckName;

    #[test]
    fn names_round_trip_through_json_and_unknown_names_are_kept() {
        let json = serde_json::to_string(&CheckName::BitcoinRowsRecomputed).unwrap();
        assert_eq!(json, "\"bitcoin_rows_recomputed\"");
        let back: CheckName = serde_json::from_str(&json).unwrap();
        assert_eq!(back, CheckName::BitcoinRowsRecomputed);
        let old: CheckName = serde_json::from_str("\"summaries_present\"").unwrap();
        assert_eq!(old, CheckName::Other("summaries_present".into()));
        assert_eq!(
            serde_json::to_string(&old).unwrap(),
            "\"summaries_present\""
        );
    }
}
