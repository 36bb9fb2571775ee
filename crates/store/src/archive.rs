//! The source archive: every raw API response a run used, gzip-compressed and filed under
//! the SHA-256 of its uncompressed bytes, so a day can be recomputed offline and any change
//! explained from evidence.
//!
//! Where it lives: a folder beside an SQLite database (`reingest.db.archive/`), the
//! `source_archive` table on PostgreSQL (and for `sqlite::memory:`), or any folder given as
//! [`crate::StoreConfig::archive_dir`].
//!
//! Writes are atomic: a folder entry is written to a temporary name, synced, then renamed;
//! a table entry is one `INSERT`. A reader never sees half an entry, and every read checks
//! the hash, so a corrupt entry is reported ([`StoreError::ArchiveCorrupt`]), never used.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

use crate::db::{on_db, Db};
use crate::schema::source_archive;
use crate::sql_types::{BodyBytes, StoredBody};
use crate::StoreError;

/// The uncompressed bytes of one archived response and its wire format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedSource {
    /// `xml` or `json`.
    pub format: String,
    /// The response body exactly as the API sent it.
    pub body: Vec<u8>,
}

/// Keeps raw source responses by content hash.
pub trait SourceArchive: Send + Sync {
    /// Stores `body` (idempotent); returns its SHA-256 in hex.
    fn put_source(&self, format: &str, body: &[u8]) -> Result<String, StoreError>;
    /// Stores many bodies (a day's responses) at once; returns their hashes in order.
    /// Each entry is whole or absent, as with [`SourceArchive::put_source`].
    fn put_sources(&self, sources: &[(&str, &[u8])]) -> Result<Vec<String>, StoreError> {
        sources
            .iter()
            .map(|(format, body)| self.put_source(format, body))
            .collect()
    }
    /// The entry filed under `hash`, checked against it.
    fn get_source(&self, hash: &str) -> Result<ArchivedSource, StoreError>;
    /// The entries filed under `hashes` (a day's responses), in the same order, each
    /// checked; a store with a table reads them in one statement.
    fn get_sources(&self, hashes: &[String]) -> Result<Vec<ArchivedSource>, StoreError> {
        hashes.iter().map(|hash| self.get_source(hash)).collect()
    }
    /// Every hash in the archive.
    fn source_hashes(&self) -> Result<Vec<String>, StoreError>;
    /// Removes these entries; returns how many were removed.
    fn delete_sources(&self, hashes: &[String]) -> Result<usize, StoreError>;
}

/// SHA-256 of `body`, lower-case hex (what the fetch log records).
pub fn source_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Where a store keeps its archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArchiveLocation {
    Folder(PathBuf),
    Table,
}

fn check_hash(hash: &str) -> Result<(), StoreError> {
    if hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        Ok(())
    } else {
        Err(StoreError::InvalidInput {
            reason: format!("{hash:?} is not a SHA-256 hex digest"),
        })
    }
}

fn check_format(format: &str) -> Result<(), StoreError> {
    if matches!(format, "xml" | "json") {
        Ok(())
    } else {
        Err(StoreError::InvalidInput {
            reason: format!("archive format must be xml or json, got {format:?}"),
        })
    }
}

pub(crate) fn compress(body: &[u8]) -> Result<Vec<u8>, std::io::Error> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(body)?;
    enc.finish()
}

/// Decompresses and checks the hash; at most `limit` bytes (a corrupt entry cannot blow
/// up memory).
pub(crate) fn decompress_checked(hash: &str, compressed: &[u8]) -> Result<Vec<u8>, StoreError> {
    const LIMIT: u64 = 256 * 1024 * 1024;
    let mut body = Vec::new();
    GzDecoder::new(compressed)
        .take(LIMIT)
        .read_to_end(&mut body)
        .map_err(|e| StoreError::ArchiveCorrupt {
            hash: hash.to_owned(),
            reason: format!("cannot decompress: {e}"),
        })?;
    let actual = source_hash(&body);
    if actual != hash {
        return Err(StoreError::ArchiveCorrupt {
            hash: hash.to_owned(),
            reason: format!("its content hashes to {actual}"),
        });
    }
    Ok(body)
}

fn io_err(path: &Path, e: &std::io::Error) -> StoreError {
    StoreError::ArchiveIo {
        path: path.display().to_string(),
        detail: e.to_string(),
    }
}

/// A folder of `HASH.FORMAT.gz` files.
pub(crate) fn folder_put(dir: &Path, format: &str, body: &[u8]) -> Result<String, StoreError> {
    check_format(format)?;
    let hash = source_hash(body);
    let name = format!("{hash}.{format}.gz");
    let path = dir.join(&name);
    if path.exists() {
        return Ok(hash);
    }
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, &e))?;
    let tmp = dir.join(format!(".tmp-{name}-{}", uuid::Uuid::new_v4().simple()));
    let write = || -> Result<(), std::io::Error> {
        let data = compress(body)?;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(&path, &e));
    }
    Ok(hash)
}

pub(crate) fn folder_get(dir: &Path, hash: &str) -> Result<ArchivedSource, StoreError> {
    check_hash(hash)?;
    for format in ["xml", "json"] {
        let path = dir.join(format!("{hash}.{format}.gz"));
        match std::fs::read(&path) {
            Ok(data) => {
                let body = decompress_checked(hash, &data)?;
                return Ok(ArchivedSource {
                    format: format.to_owned(),
                    body,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_err(&path, &e)),
        }
    }
    Err(StoreError::ArchiveMissing {
        hash: hash.to_owned(),
    })
}

pub(crate) fn folder_hashes(dir: &Path) -> Result<Vec<String>, StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(dir, &e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_err(dir, &e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((hash, _)) = name.split_once('.') {
            if check_hash(hash).is_ok() {
                out.push(hash.to_owned());
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

pub(crate) fn folder_delete(dir: &Path, hashes: &[String]) -> Result<usize, StoreError> {
    let mut n = 0;
    for hash in hashes {
        check_hash(hash)?;
        for format in ["xml", "json"] {
            let path = dir.join(format!("{hash}.{format}.gz"));
            match std::fs::remove_file(&path) {
                Ok(()) => n += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&path, &e)),
            }
        }
    }
    Ok(n)
}

/// The `source_archive` table (`bytea` on PostgreSQL, hex TEXT on SQLite): one entry.
pub(crate) fn table_put(db: &mut Db<'_>, format: &str, body: &[u8]) -> Result<String, StoreError> {
    let mut hashes = table_put_many(db, &[(format, body)])?;
    hashes.pop().ok_or_else(|| StoreError::InvalidInput {
        reason: "no archive entry was written".into(),
    })
}

/// Many entries: one read of which hashes the table already holds, then the others,
/// compressed, in one multi-row `INSERT` per thousand. An entry already there is left as it
/// is and not compressed again, as the folder archive does (a re-ingest of a day, or a run
/// from the archive, writes nothing). Returns the hashes in order.
pub(crate) fn table_put_many(
    db: &mut Db<'_>,
    sources: &[(&str, &[u8])],
) -> Result<Vec<String>, StoreError> {
    let hashes = sources
        .iter()
        .map(|(format, body)| check_format(format).map(|()| source_hash(body)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut present: HashSet<String> = HashSet::with_capacity(hashes.len());
    for chunk in hashes.chunks(1000) {
        let found: Vec<String> = on_db!(db, c => source_archive::table
            .filter(source_archive::hash.eq_any(chunk))
            .select(source_archive::hash)
            .load(c))?;
        present.extend(found);
    }
    let mut missing = Vec::new();
    for ((format, body), hash) in sources.iter().zip(&hashes) {
        // A day can hold one body twice (two empty periods): compress and send it once.
        if present.insert(hash.clone()) {
            let data = compress(body).map_err(|e| StoreError::ArchiveIo {
                path: "source_archive".into(),
                detail: e.to_string(),
            })?;
            missing.push((hash.as_str(), *format, BodyBytes(data)));
        }
    }
    for chunk in missing.chunks(1000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(hash, format, body)| {
                (
                    source_archive::hash.eq(*hash),
                    source_archive::format.eq(*format),
                    source_archive::body.eq(body),
                )
            })
            .collect();
        // Another run may file the same entry meanwhile: it is the same content.
        on_db!(db, c => diesel::insert_into(source_archive::table)
            .values(&rows)
            .on_conflict(source_archive::hash)
            .do_nothing()
            .execute(c))?;
    }
    Ok(hashes)
}

/// The entry filed under `hash`, checked against it.
pub(crate) fn table_get(db: &mut Db<'_>, hash: &str) -> Result<ArchivedSource, StoreError> {
    let mut found = table_get_many(db, &[hash.to_owned()])?;
    found.pop().ok_or_else(|| StoreError::ArchiveMissing {
        hash: hash.to_owned(),
    })
}

/// The entries filed under `hashes`, in their order, each checked against its hash: one
/// statement per thousand (`hash IN (…)`), so a day's 96 responses are one read.
pub(crate) fn table_get_many(
    db: &mut Db<'_>,
    hashes: &[String],
) -> Result<Vec<ArchivedSource>, StoreError> {
    for hash in hashes {
        check_hash(hash)?;
    }
    let mut rows: HashMap<String, (String, StoredBody)> = HashMap::with_capacity(hashes.len());
    for chunk in hashes.chunks(1000) {
        let found: Vec<(String, String, StoredBody)> = on_db!(db, c => source_archive::table
            .filter(source_archive::hash.eq_any(chunk))
            .select((source_archive::hash, source_archive::format, source_archive::body))
            .load(c))?;
        rows.extend(found.into_iter().map(|(h, f, b)| (h, (f, b))));
    }
    hashes
        .iter()
        .map(|hash| {
            let (format, body) = rows
                .get(hash)
                .ok_or_else(|| StoreError::ArchiveMissing { hash: hash.clone() })?;
            let data = body
                .0
                .as_ref()
                .map_err(|reason| StoreError::ArchiveCorrupt {
                    hash: hash.clone(),
                    reason: reason.clone(),
                })?;
            Ok(ArchivedSource {
                format: format.clone(),
                body: decompress_checked(hash, data)?,
            })
        })
        .collect()
}

/// Every hash in the table.
pub(crate) fn table_hashes(db: &mut Db<'_>) -> Result<Vec<String>, StoreError> {
    Ok(on_db!(db, c => source_archive::table
        .select(source_archive::hash)
        .order(source_archive::hash)
        .load(c))?)
}

/// Deletes these entries, in one statement per thousand.
pub(crate) fn table_delete(db: &mut Db<'_>, hashes: &[String]) -> Result<usize, StoreError> {
    let mut n = 0;
    for chunk in hashes.chunks(1000) {
        n += on_db!(db, c => diesel::delete(
            source_archive::table.filter(source_archive::hash.eq_any(chunk))
        )
        .execute(c))?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_entries_round_trip_and_corruption_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let body = b"<Response><Data/></Response>".to_vec();
        let hash = folder_put(dir.path(), "xml", &body).unwrap();
        assert_eq!(hash, source_hash(&body));
        assert_eq!(
            folder_put(dir.path(), "xml", &body).unwrap(),
            hash,
            "idempotent"
        );
        let got = folder_get(dir.path(), &hash).unwrap();
        assert_eq!((got.format.as_str(), got.body), ("xml", body.clone()));
        assert_eq!(folder_hashes(dir.path()).unwrap(), vec![hash.clone()]);
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let path = dir.path().join(format!("{hash}.xml.gz"));
        std::fs::write(&path, compress(b"something else").unwrap()).unwrap();
        let err = folder_get(dir.path(), &hash).unwrap_err();
        assert!(matches!(err, StoreError::ArchiveCorrupt { .. }), "{err}");
        std::fs::write(&path, b"not gzip").unwrap();
        assert!(matches!(
            folder_get(dir.path(), &hash).unwrap_err(),
            StoreError::ArchiveCorrupt { .. }
        ));

        assert_eq!(
            folder_delete(dir.path(), std::slice::from_ref(&hash)).unwrap(),
            1
        );
        assert!(matches!(
            folder_get(dir.path(), &hash).unwrap_err(),
            StoreError::ArchiveMissing { .. }
        ));
        assert!(folder_get(dir.path(), "../etc/passwd").is_err());
        assert!(folder_put(dir.path(), "csv", b"x").is_err());
    }
}
