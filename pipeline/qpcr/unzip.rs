//! The few lines of ZIP an RDML file needs (APPNOTE.TXT 6.3, PKWARE): the end-of-central-
//! directory record, the central directory, each local header, and members stored (method 0)
//! or deflated (method 8), inflated with `flate2` and checked against their CRC-32.
//!
//! Why not the `zip` crate: an RDML file is one small XML member (two to five in Roche's), and
//! `zip` 9 with only deflate brings nine crates we do not build today (a proc macro among
//! them); these ~120 lines use `flate2` and `crc32fast`, which the build already has.
//! ZIP64, encryption, spanning and other methods are refused with the reason.

use std::io::Read;

use crate::methylation::InputError;

/// An uncompressed member larger than this is refused (a guard against zip bombs; the largest
/// real RDML member we know, Roche LightCycler 96's `rdml_data.xml`, is 2.6 MB).
pub const MAX_MEMBER: u64 = 512 << 20;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// True when `bytes` start like a ZIP archive.
pub fn is_zip(bytes: &[u8]) -> bool {
    // `PK\x07\x08` first: the spanning marker some writers (Bio-Rad CFX Manager) put before
    // the first local header of a one-part archive.
    bytes.starts_with(b"PK\x03\x04")
        || bytes.starts_with(b"PK\x05\x06")
        || bytes.starts_with(b"PK\x07\x08PK\x03\x04")
}

/// The names of the archive's members, in central-directory order.
pub fn names(path: &str, bytes: &[u8]) -> Result<Vec<String>, InputError> {
    Ok(directory(path, bytes)?
        .into_iter()
        .map(|e| e.name)
        .collect())
}

struct Entry {
    name: String,
    method: u16,
    flags: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    local: usize,
}

fn directory(path: &str, bytes: &[u8]) -> Result<Vec<Entry>, InputError> {
    let bad = |m: String| InputError::file(path, format!("ZIP archive: {m}"));
    // The end record is in the last 22 + 65,535 bytes (its comment is at most 64 KiB).
    let from = bytes.len().saturating_sub(22 + 65_535);
    let eocd = (from..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| bytes[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(|| bad("no end-of-central-directory record (truncated?)".into()))?;
    let count = u16_at(bytes, eocd + 10).unwrap_or(0) as usize;
    let cd_size = u32_at(bytes, eocd + 12).unwrap_or(0);
    let cd_at = u32_at(bytes, eocd + 16).unwrap_or(0);
    if count == 0xFFFF || cd_at == u32::MAX || cd_size == u32::MAX {
        return Err(bad("ZIP64 archives are not read; re-save the file".into()));
    }
    // Bytes before the archive proper (a spanning marker, a self-extractor stub) shift every
    // offset the directory gives: the end record sits right after the directory.
    let shift = eocd
        .checked_sub(cd_size as usize + cd_at as usize)
        .ok_or_else(|| bad("the central directory does not fit before its end record".into()))?;
    let mut at = cd_at as usize + shift;
    let mut out = Vec::with_capacity(count.min(1024));
    for k in 0..count {
        let field = |o: usize, w: u8| -> Result<u64, InputError> {
            let v = if w == 2 {
                u16_at(bytes, at + o).map(u64::from)
            } else {
                u32_at(bytes, at + o).map(u64::from)
            };
            v.ok_or_else(|| bad(format!("central directory entry {}: truncated", k + 1)))
        };
        if u32_at(bytes, at) != Some(0x0201_4b50) {
            return Err(bad(format!(
                "central directory entry {}: bad signature at byte {at}",
                k + 1
            )));
        }
        let (n, e, c) = (
            field(28, 2)? as usize,
            field(30, 2)? as usize,
            field(32, 2)? as usize,
        );
        let name = bytes
            .get(at + 46..at + 46 + n)
            .ok_or_else(|| bad(format!("central directory entry {}: truncated name", k + 1)))?;
        out.push(Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            flags: field(8, 2)? as u16,
            method: field(10, 2)? as u16,
            crc: field(16, 4)? as u32,
            compressed: field(20, 4)?,
            size: field(24, 4)?,
            local: field(42, 4)? as usize + shift,
        });
        at += 46 + n + e + c;
    }
    Ok(out)
}

/// The bytes of member `name`, inflated and CRC-checked.
pub fn member(path: &str, bytes: &[u8], name: &str) -> Result<Vec<u8>, InputError> {
    let entries = directory(path, bytes)?;
    let e = entries
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| InputError::file(path, format!("ZIP archive: no member {name}")))?;
    let bad = |m: &str| InputError::file(path, format!("ZIP member {}: {m}", e.name));
    if e.flags & 1 != 0 {
        return Err(bad("encrypted"));
    }
    if e.size > MAX_MEMBER || e.compressed == u64::from(u32::MAX) {
        return Err(bad("larger than 512 MiB (or ZIP64): not read"));
    }
    if u32_at(bytes, e.local) != Some(0x0403_4b50) {
        return Err(bad("bad local header signature"));
    }
    let n = u16_at(bytes, e.local + 26).ok_or_else(|| bad("truncated local header"))? as usize;
    let x = u16_at(bytes, e.local + 28).ok_or_else(|| bad("truncated local header"))? as usize;
    let start = e.local + 30 + n + x;
    let data = start
        .checked_add(e.compressed as usize)
        .and_then(|end| bytes.get(start..end))
        .ok_or_else(|| bad("truncated data"))?;
    let mut out = Vec::with_capacity(e.size.min(MAX_MEMBER) as usize);
    match e.method {
        0 => out.extend_from_slice(data),
        8 => {
            flate2::read::DeflateDecoder::new(data)
                .take(MAX_MEMBER + 1)
                .read_to_end(&mut out)
                .map_err(|err| bad(&format!("cannot inflate: {err}")))?;
        }
        m => {
            return Err(bad(&format!(
                "compression method {m} (only stored and deflate are read)"
            )))
        }
    }
    if out.len() as u64 != e.size {
        return Err(bad(&format!(
            "inflated to {} bytes, the directory says {}",
            out.len(),
            e.size
        )));
    }
    if crc32fast::hash(&out) != e.crc {
        return Err(bad("CRC-32 mismatch (corrupt archive)"));
    }
    Ok(out)
}
