//! sha256 checks of files bundled into the binary against their `sha256sum`-style manifest
//! (`<hex>  <name>` lines), shared by every stage that embeds reference tables.

use sha2::{Digest, Sha256};

/// Lower-case hex sha256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `(name, sha256)` entries of a manifest, in file order, both trimmed.
pub fn manifest_entries(manifest: &str) -> impl Iterator<Item = (&str, &str)> {
    manifest
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(sha, name)| (name.trim(), sha.trim()))
}

/// Why a bundled file was refused (the message only; the caller names the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChecksumError {
    /// The manifest does not list the file.
    NotListed,
    /// The bytes do not hash to the listed sum.
    Mismatch {
        /// The sha256 of the bytes.
        got: String,
        /// The sha256 the manifest lists.
        want: String,
    },
}

impl std::fmt::Display for ChecksumError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChecksumError::NotListed => f.write_str("not listed in MANIFEST.sha256"),
            ChecksumError::Mismatch { got, want } => write!(
                f,
                "sha256 {got} does not match MANIFEST.sha256 ({want}): the bundled file was changed; refusing it"
            ),
        }
    }
}

impl std::error::Error for ChecksumError {}

/// Checks a bundled file's bytes against the sha256 its manifest lists for `name`.
pub fn verify_bundled(name: &str, bytes: &[u8], manifest: &str) -> Result<(), ChecksumError> {
    let want = manifest_entries(manifest)
        .find(|(n, _)| *n == name)
        .map(|(_, sha)| sha)
        .ok_or(ChecksumError::NotListed)?;
    let got = sha256_hex(bytes);
    if got != want {
        return Err(ChecksumError::Mismatch {
            got,
            want: want.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_bundled_accepts_the_listed_sum_and_names_the_problem_otherwise() {
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex(b"abc"), abc);
        let manifest = format!("{abc}  a.tsv\n0000  b.tsv\n");
        assert_eq!(verify_bundled("a.tsv", b"abc", &manifest), Ok(()));
        assert_eq!(
            verify_bundled("c.tsv", b"abc", &manifest)
                .unwrap_err()
                .to_string(),
            "not listed in MANIFEST.sha256"
        );
        let err = verify_bundled("b.tsv", b"abc", &manifest)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(&format!(
            "sha256 {abc} does not match MANIFEST.sha256 (0000)"
        )));
    }
}
