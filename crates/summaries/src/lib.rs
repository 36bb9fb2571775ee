//! Skeleton; filled in by its issue.
