//! Outputs for people, built as strings (the binary writes them): numbers formatted for
//! reading ([`human`]), escaping of outside text ([`escape`]), the text and JSON of every
//! report ([`render`]), the run's report document ([`document`]) and the data-health
//! calendar of a range ([`status`]).

pub mod document;
pub mod escape;
pub mod human;
pub mod render;
pub mod status;
