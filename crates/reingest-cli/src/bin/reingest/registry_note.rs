//! What a run did with the BM unit registry ([`RegistryNote`]), in the run report's words,
//! naming this binary's commands and flags.

use reingest::RegistryNote;

use crate::{error_line, remedy};

/// The report's line for `note`.
pub fn line(note: &RegistryNote) -> String {
    note.word(error_line::line, remedy::command, "--no-registry-refresh")
}

#[cfg(test)]
mod tests {
    use reingest::RegistryNote;

    use super::line;

    /// Each note as the report said it before the library stopped naming commands.
    #[test]
    fn notes_read_as_they_always_did() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T06:05:00Z")
            .map(|t| t.to_utc())
            .unwrap_or_else(|e| panic!("{e}"));
        let cases = [
            (
                RegistryNote::KeptFixed,
                "kept fixed (--no-registry-refresh)",
            ),
            (
                RegistryNote::OriginUnknown,
                "its origin is not recorded (filled before this version): left as it is; \
                 `reingest bmu sync` refreshes it from the API",
            ),
            (
                RegistryNote::ImportedFromFile,
                "imported from a file: left as the operator made it (`reingest bmu import \
                 FILE` again, or `reingest bmu sync` to take the API's)",
            ),
            (
                RegistryNote::RefreshedRecently { at },
                "refreshed from the API at 2026-12-01 06:05 UTC (at most once a day); the ids \
                 are not there",
            ),
            (
                RegistryNote::Filled {
                    summary: "3 stored".into(),
                },
                "filled from the API: 3 stored",
            ),
            (
                RegistryNote::Refreshed {
                    summary: "3 stored".into(),
                },
                "refreshed from the API for unknown unit ids: 3 stored",
            ),
        ];
        for (note, want) in cases {
            assert_eq!(line(&note), want, "{note:?}");
        }
    }
}
