//! The reference files compiled into agemark, and how code names one.
//!
//! The files live in the repository's `reference/` (with their provenance, licences and
//! `MANIFEST.sha256`). They reach the binary through four data crates (`crates/data-*`), each
//! a list of `(name, bytes)` per directory, because together they are over crates.io's 10 MiB
//! limit for one crate. Code picks a file by name with [`file`] or [`text`] in a `const`, so a
//! name that is not in the list stops the build instead of failing at run time.

/// The directories of `reference/` the binary carries, as the data crates list them.
pub use agemark_data_arrays::ARRAYS;
pub use agemark_data_coords::COORDS;
pub use agemark_data_demo::DEMO;
pub use agemark_data_models::{CELLTYPES, CLOCKS, CONTIGS, NR3C1, QC, SCORES, TELOMERE};

/// One directory's files: (path within the directory, contents).
pub type Files = &'static [(&'static str, &'static [u8])];

/// The bytes of `name` in `files`; evaluated in a `const`, a missing name is a build error.
pub const fn file(files: Files, name: &str) -> &'static [u8] {
    let mut i = 0;
    while i < files.len() {
        if same(files[i].0.as_bytes(), name.as_bytes()) {
            return files[i].1;
        }
        i += 1;
    }
    panic!("no such embedded reference file")
}

/// The text of `name` in `files` (UTF-8 checked at build time in a `const`).
pub const fn text(files: Files, name: &str) -> &'static str {
    match std::str::from_utf8(file(files, name)) {
        Ok(text) => text,
        Err(_) => panic!("an embedded reference file is not UTF-8"),
    }
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `(name, bytes)` pairs of the named files of one directory, for the registries that check a
/// set of files against their `MANIFEST.sha256`: `files!(CLOCKS; "clocks.tsv", …)`.
macro_rules! files {
    ($dir:expr; $($name:literal),+ $(,)?) => {
        &[$(($name, $crate::core::embedded::file($dir, $name))),+]
    };
}
pub(crate) use files;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_find_their_bytes() {
        const BANDS: &str = text(TELOMERE, "subtelomeric_bands.tsv");
        assert!(!BANDS.is_empty());
        const TWO: &[(&str, &[u8])] = files!(CLOCKS; "clocks.tsv", "MANIFEST.sha256");
        assert_eq!(TWO.len(), 2);
        assert!(std::str::from_utf8(TWO[1].1).is_ok_and(|t| t.contains("clocks.tsv")));
    }

    /// The files under `dir`, as paths relative to it with `/` separators, sorted.
    fn on_disk(dir: &std::path::Path) -> Vec<String> {
        let mut found = Vec::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for entry in std::fs::read_dir(&d).expect("a reference directory is readable") {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    todo.push(path);
                } else {
                    let rel = path.strip_prefix(dir).expect("under the directory");
                    found.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        found.sort();
        found
    }

    #[test]
    fn the_data_crates_list_every_file_of_reference() {
        let reference = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reference");
        let sets: [(&str, Files); 10] = [
            ("arrays", ARRAYS),
            ("coords", COORDS),
            ("demo", DEMO),
            ("clocks", CLOCKS),
            ("scores", SCORES),
            ("celltypes", CELLTYPES),
            ("nr3c1", NR3C1),
            ("qc", QC),
            ("contigs", CONTIGS),
            ("telomere", TELOMERE),
        ];
        let mut dirs: Vec<String> = std::fs::read_dir(&reference)
            .expect("reference/ is readable")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| reference.join(name).is_dir())
            .collect();
        dirs.sort();
        let mut carried: Vec<String> = sets.iter().map(|(d, _)| d.to_string()).collect();
        carried.sort();
        assert_eq!(
            dirs, carried,
            "a directory of reference/ is in no data crate"
        );
        for (dir, files) in sets {
            let listed: Vec<String> = files.iter().map(|(n, _)| n.to_string()).collect();
            assert_eq!(
                on_disk(&reference.join(dir)),
                listed,
                "reference/{dir}/ and its data crate's list (crates/data-*/src/lib.rs) differ"
            );
            for (name, bytes) in files {
                let path = reference.join(dir).join(name);
                let same = std::fs::read(&path).is_ok_and(|on_disk| on_disk == *bytes);
                assert!(same, "{}: the embedded bytes differ", path.display());
            }
        }
    }
}
