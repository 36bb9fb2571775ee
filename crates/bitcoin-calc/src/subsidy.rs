//! The block subsidy in force on a date, from the halving table of `elexon-api.md` §5.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

/// The halvings: the UTC day of the halving block and the subsidy from that day on, BTC.
/// Before the first entry the subsidy is 50 BTC.
///
/// Dates are `(year, month, day)` so the table is a `const` without any fallible
/// construction. The next halving (block 1,050,000, expected in 2028) is not here: add its
/// UTC day when it is known; until then every later date gets 3.125 BTC.
const HALVINGS: [((i32, u32, u32), Decimal); 4] = [
    ((2012, 11, 28), Decimal::from_parts(25, 0, 0, false, 0)),
    ((2016, 7, 9), Decimal::from_parts(125, 0, 0, false, 1)),
    ((2020, 5, 11), Decimal::from_parts(625, 0, 0, false, 2)),
    ((2024, 4, 20), Decimal::from_parts(3125, 0, 0, false, 3)),
];

/// The subsidy before the first halving, BTC.
const GENESIS_SUBSIDY: Decimal = Decimal::from_parts(50, 0, 0, false, 0);

/// The block subsidy (BTC per block) in force on `date`, by the UTC day of each halving:
/// 50; 25 from 2012-11-28; 12.5 from 2016-07-09; 6.25 from 2020-05-11; 3.125 from 2024-04-20.
///
/// The whole day of a halving gets the new subsidy (the day is the unit of settlement data).
///
/// ```
/// use bitcoin_calc::block_subsidy;
/// use chrono::NaiveDate;
/// let d = |s: &str| s.parse::<NaiveDate>().unwrap();
/// assert_eq!(block_subsidy(d("2024-04-19")).to_string(), "6.25");
/// assert_eq!(block_subsidy(d("2024-04-20")).to_string(), "3.125");
/// assert_eq!(block_subsidy(d("2009-01-03")).to_string(), "50");
/// ```
pub fn block_subsidy(date: NaiveDate) -> Decimal {
    let key = (date.year(), date.month(), date.day());
    HALVINGS
        .iter()
        .rev()
        .find(|(from, _)| key >= *from)
        .map_or(GENESIS_SUBSIDY, |(_, subsidy)| *subsidy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(date: &str, expected: &str) {
        let d: NaiveDate = date.parse().unwrap();
        assert_eq!(block_subsidy(d).to_string(), expected, "{date}");
    }

    #[test]
    fn every_halving_and_the_day_before() {
        check("2009-01-03", "50");
        check("2012-11-27", "50");
        check("2012-11-28", "25");
        check("2016-07-08", "25");
        check("2016-07-09", "12.5");
        check("2020-05-10", "12.5");
        check("2020-05-11", "6.25");
        check("2024-04-19", "6.25");
        check("2024-04-20", "3.125");
        check("2027-12-31", "3.125");
    }
}
