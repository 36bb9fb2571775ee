//! The whole chain of an error as one line: each message of this crate is the context only,
//! so its source's message follows it, after `: `.

use std::error::Error;
use std::sync::Arc;

use super::{DifficultyError, HttpFeedError, InputError, PipelineError, RegistryError};

/// `error` and its causes on one line, joined with `: `: the message of each error of this
/// crate followed by its source's, down to the first error of another crate, whose message
/// is taken as it words itself (with whatever of its own causes it shows). No remedies: see
/// [`PipelineError::remedies`].
///
/// ```
/// use reingest::error::{describe, InputError};
/// use reingest::PipelineError;
///
/// let error: PipelineError = InputError::File {
///     action: "read",
///     path: "units.json".into(),
///     source: std::io::Error::other("permission denied"),
/// }
/// .into();
/// assert_eq!(error.to_string(), "cannot read units.json");
/// assert_eq!(describe(&error), "cannot read units.json: permission denied");
/// ```
pub fn describe(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error;
    while leaves_out_cause(current) {
        let Some(cause) = current.source() else {
            break;
        };
        text.push_str(": ");
        text.push_str(&cause.to_string());
        current = cause;
    }
    text
}

/// Whether `error` is one of this crate's whose message leaves its source's out.
fn leaves_out_cause(error: &(dyn Error + 'static)) -> bool {
    if let Some(e) = error.downcast_ref::<PipelineError>() {
        e.leaves_out_cause()
    } else if let Some(e) = error.downcast_ref::<Arc<PipelineError>>() {
        e.leaves_out_cause()
    } else if let Some(e) = error.downcast_ref::<InputError>() {
        e.leaves_out_cause()
    } else if let Some(e) = error.downcast_ref::<RegistryError>() {
        e.leaves_out_cause()
    } else if let Some(e) = error.downcast_ref::<DifficultyError>() {
        e.leaves_out_cause()
    } else if let Some(e) = error.downcast_ref::<HttpFeedError>() {
        e.leaves_out_cause()
    } else {
        false
    }
}
