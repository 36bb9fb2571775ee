//! reingest binary.
fn main() {}
