//! Reference files embedded in the binary: looked up by name in a `(name, bytes)` list that
//! also holds its `MANIFEST.sha256`, checked against it, and gunzipped when stored compressed
//! (clock models, cell-type panels, the NR3C1 probe table).

use std::io::Read;

use crate::{core::checksum::verify_bundled, methylation::InputError};

/// An embedded file from a `(name, bytes)` list holding a `MANIFEST.sha256`, checked and
/// gunzipped; errors name it as `<dir>/<name>`.
pub(crate) fn embedded_from(
    files: &[(&str, &'static [u8])],
    dir: &str,
    name: &str,
) -> Result<Vec<u8>, InputError> {
    let path = format!("{dir}/{name}");
    let raw = |n: &str| files.iter().find(|(f, _)| *f == n).map(|(_, b)| *b);
    let bytes = raw(name).ok_or_else(|| InputError::file(&path, "not bundled in this binary"))?;
    let manifest =
        std::str::from_utf8(raw("MANIFEST.sha256").unwrap_or_default()).unwrap_or_default();
    verify_bundled(name, bytes, manifest).map_err(|m| InputError::file(&path, m.to_string()))?;
    gunzip_if_compressed(&path, bytes)
}

/// The bytes, gunzipped when they start with the gzip magic.
pub(crate) fn gunzip_if_compressed(path: &str, bytes: &[u8]) -> Result<Vec<u8>, InputError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| InputError::file(path, format!("corrupt gzip data: {e}")))?;
        Ok(out)
    } else {
        Ok(bytes.to_vec())
    }
}

/// The index of column `name` in a bundled table's header; a missing column is an error about
/// the table (`<path>: no column '<name>'`).
pub(crate) fn header_column(header: &[&str], path: &str, name: &str) -> Result<usize, InputError> {
    header
        .iter()
        .position(|h| *h == name)
        .ok_or_else(|| InputError::file(path, format!("no column '{name}'")))
}
