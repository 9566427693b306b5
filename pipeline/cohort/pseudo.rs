//! Pseudonyms for cohort linkage: keyed hashes of sample, participant and family IDs.
//!
//! `pseudonym(kind, id) = <kind letter> + "_" + hex(HMAC-SHA256(key, kind || 0x00 || id))[..16]`
//!
//! * HMAC-SHA256 (RFC 2104 over FIPS 180-4 SHA-256) with the bytes of the key file as the key
//!   (surrounding whitespace trimmed; at least [`MIN_KEY_BYTES`] bytes).
//! * `kind` is `sample`, `participant`, `family` or `input` (file names of the `input` column),
//!   so the same text used as two kinds of ID gets two unrelated pseudonyms.
//! * Truncated to the first 8 bytes (16 lowercase hex digits, 64 bits): a collision between two
//!   of n IDs has probability about n²/2⁶⁵ (below 10⁻⁹ for 100,000 IDs); a collision is
//!   detected and reported as an error rather than silently merging two samples.
//! * Prefixes: `s_` sample, `p_` participant, `f_` family, `i_` input file.
//!
//! The same key gives the same pseudonyms on every run; without the key they cannot be
//! reversed or recomputed. Keep the key file apart from the results.

use std::{collections::HashMap, fmt, sync::OnceLock};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::core::error::{Category, Error};

/// Shortest accepted key (bytes, after trimming whitespace).
pub const MIN_KEY_BYTES: usize = 16;

/// Hex digits kept of the HMAC.
pub const PSEUDONYM_HEX: usize = 16;

/// What an ID names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// A sample.
    Sample,
    /// A participant.
    Participant,
    /// A family.
    Family,
    /// An input file name.
    Input,
}

impl IdKind {
    fn label(self) -> &'static str {
        match self {
            IdKind::Sample => "sample",
            IdKind::Participant => "participant",
            IdKind::Family => "family",
            IdKind::Input => "input",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            IdKind::Sample => "s_",
            IdKind::Participant => "p_",
            IdKind::Family => "f_",
            IdKind::Input => "i_",
        }
    }
}

/// A pseudonymisation key.
#[derive(Clone)]
pub struct Pseudonymiser {
    key: Vec<u8>,
}

impl fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pseudonymiser(<key hidden>)")
    }
}

impl Pseudonymiser {
    /// The key of `--pseudonymise FILE`, when given.
    pub fn load(path: Option<&str>) -> Result<Option<Pseudonymiser>, Error> {
        path.map(Pseudonymiser::from_key_file).transpose()
    }

    /// Reads a key file.
    pub fn from_key_file(path: &str) -> Result<Pseudonymiser, Error> {
        let bytes = std::fs::read(path).map_err(|e| {
            Error::new(
                Category::of_read_io(&e),
                format!("{path}: cannot read key: {e}"),
            )
        })?;
        Pseudonymiser::from_key(&bytes)
            .map_err(|e| Error::new(Category::Usage, format!("{path}: {e}")))
    }

    /// A key from bytes (surrounding ASCII whitespace trimmed).
    pub fn from_key(bytes: &[u8]) -> Result<Pseudonymiser, Error> {
        let key = bytes.trim_ascii();
        if key.len() < MIN_KEY_BYTES {
            return Err(Error::new(Category::Usage, format!(
                "key too short: {} bytes, need at least {MIN_KEY_BYTES} (e.g. `head -c 32 /dev/urandom | base64 > key`)",
                key.len()
            )));
        }
        Ok(Pseudonymiser { key: key.to_vec() })
    }

    /// The pseudonym of an ID (empty stays empty).
    pub fn pseudonym(&self, kind: IdKind, id: &str) -> String {
        if id.is_empty() {
            return String::new();
        }
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC takes keys of any length");
        mac.update(kind.label().as_bytes());
        mac.update(&[0]);
        mac.update(id.as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut out = String::from(kind.prefix());
        for b in tag.iter().take(PSEUDONYM_HEX / 2) {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// The `input` column: each `+`-joined file name replaced by its pseudonym.
    pub fn input(&self, input: &str) -> String {
        input
            .split('+')
            .map(|f| self.pseudonym(IdKind::Input, f))
            .collect::<Vec<_>>()
            .join("+")
    }
}

/// Replaces raw IDs inside free text (error messages, QC notes, log lines) by their
/// pseudonyms: longest IDs first, plain substring matches.
#[derive(Clone, Debug, Default)]
pub struct Scrubber {
    pairs: Vec<(String, String)>,
}

impl Scrubber {
    /// A scrubber for these (raw, pseudonym) pairs.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Scrubber {
        let mut map: HashMap<String, String> = HashMap::new();
        for (raw, p) in pairs {
            if !raw.is_empty() {
                map.insert(raw, p);
            }
        }
        let mut pairs: Vec<(String, String)> = map.into_iter().collect();
        pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Scrubber { pairs }
    }

    /// The text with every raw ID replaced where it stands as a token: in one pass (a
    /// pseudonym already inserted is never scanned again), the longest ID that starts and ends
    /// at a token boundary (the text's ends, or a character that is not ASCII alphanumeric), so
    /// `17` in `exclude_flags=1796` or `a` inside `dnam` are left alone, while `S1` in
    /// `/data/S1.bam` is replaced.
    pub fn scrub(&self, text: &str) -> String {
        if self.pairs.is_empty() {
            return text.to_string();
        }
        let is_word = |c: u8| c.is_ascii_alphanumeric();
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let mut copied = 0;
        while i < bytes.len() {
            let at_boundary = i == 0 || !is_word(bytes[i - 1]);
            if at_boundary && text.is_char_boundary(i) {
                // pairs are sorted longest first: the first match is the longest.
                let hit = self.pairs.iter().find(|(raw, _)| {
                    let end = i + raw.len();
                    text[i..].starts_with(raw.as_str())
                        && (end == bytes.len() || !is_word(bytes[end]))
                });
                if let Some((raw, p)) = hit {
                    out.push_str(&text[copied..i]);
                    out.push_str(p);
                    i += raw.len();
                    copied = i;
                    continue;
                }
            }
            i += 1;
        }
        out.push_str(&text[copied..]);
        out
    }

    /// No IDs to replace.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

static LOG_SCRUBBER: OnceLock<Scrubber> = OnceLock::new();

/// Installs the scrubber applied to every log line written through [`ScrubbedStderr`] (once per
/// process; later calls are ignored).
pub fn install_log_scrubber(s: Scrubber) {
    let _ = LOG_SCRUBBER.set(s);
}

/// Scrubs text with the installed log scrubber (unchanged when none is installed).
pub fn scrub_log(text: &str) -> String {
    match LOG_SCRUBBER.get() {
        Some(s) => s.scrub(text),
        None => text.to_string(),
    }
}

/// A stderr writer for the log subscriber that applies the installed scrubber to each write.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScrubbedStderr;

impl std::io::Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Progress bars are hidden while the line is written, then redrawn below it.
        crate::core::progress::suspend(|| match LOG_SCRUBBER.get() {
            Some(s) if !s.is_empty() => {
                let text = String::from_utf8_lossy(buf);
                std::io::stderr().write_all(s.scrub(&text).as_bytes())?;
                Ok(buf.len())
            }
            _ => std::io::stderr().write_all(buf).map(|()| buf.len()),
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_replaces_ids_only_as_tokens_and_in_one_pass() {
        let s = Scrubber::new([
            ("17".to_string(), "f_2a8b".to_string()),
            ("a".to_string(), "s_17".to_string()),
            ("S1".to_string(), "s_9f".to_string()),
        ]);
        // Inside a number or a word: left alone; a pseudonym is not scanned again.
        assert_eq!(s.scrub("exclude_flags=1796"), "exclude_flags=1796");
        assert_eq!(s.scrub("ols_residual(dnam~age)"), "ols_residual(dnam~age)");
        assert_eq!(s.scrub("family 17"), "family f_2a8b");
        assert_eq!(s.scrub("a"), "s_17");
        assert_eq!(
            s.scrub("/data/S1.bam: S1; S10"),
            "/data/s_9f.bam: s_9f; S10"
        );
    }

    #[test]
    fn pseudonyms_are_keyed_kind_separated_and_stable() {
        let p = Pseudonymiser::from_key(b"0123456789abcdef0123\n").unwrap();
        let q = Pseudonymiser::from_key(b"another key, long enough").unwrap();
        let a = p.pseudonym(IdKind::Sample, "M01");
        assert_eq!(a, p.pseudonym(IdKind::Sample, "M01"));
        assert_eq!(a.len(), 2 + PSEUDONYM_HEX);
        assert!(a.starts_with("s_"));
        assert_ne!(a, q.pseudonym(IdKind::Sample, "M01"));
        assert_ne!(a[2..], p.pseudonym(IdKind::Participant, "M01")[2..]);
        assert_eq!(p.pseudonym(IdKind::Family, ""), "");
        assert!(Pseudonymiser::from_key(b"short").is_err());
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn scrubber_replaces_longest_first() {
        let s = Scrubber::new([
            ("M1".to_string(), "s_a".to_string()),
            ("M10".to_string(), "s_b".to_string()),
        ]);
        assert_eq!(s.scrub("M10 and M1: M10.bam"), "s_b and s_a: s_b.bam");
    }

    /// Issue 17, defect 8: ids were replaced as substrings, also inside pseudonyms already
    /// inserted (`17` in `exclude_flags=1796`; ids `a`, `b`, `1`, `t` garbled methods, notes
    /// and timestamps). Now only whole tokens, in one pass.
    #[test]
    fn ids_are_replaced_only_as_whole_tokens_and_pseudonyms_are_not_rescanned() {
        let s = Scrubber::new(
            ["17", "a", "b", "1", "t", "f"]
                .iter()
                .map(|r| (r.to_string(), format!("f_{r}a1b"))),
        );
        let text = "exclude_flags=1796 method=telseq(k=7) note: read a/b.bam at 2026-12-02T05:38:20Z id 17";
        assert_eq!(
            s.scrub(text),
            "exclude_flags=1796 method=telseq(k=7) note: read f_aa1b/f_ba1b.bam at 2026-12-02T05:38:20Z id f_17a1b"
        );
    }
}
