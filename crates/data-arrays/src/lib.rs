//! Illumina methylation array manifests (HM27, 450K, MSA probe orderings and hg38 coordinates, EPIC
//! controls) and install checksums embedded by agemark.
//!
//! Every file of `reference/arrays/` in the agemark repository, as bytes compiled into the crate.
//! The files, their provenance and licences live in the repository's `reference/` (this crate
//! reaches it through a symbolic link; `cargo package` copies the files themselves). agemark looks
//! a file up by name at compile time (`agemark::core::embedded`), so a misspelt or missing name
//! does not build. A test there fails if a file of the directory is not listed here.
#![no_std]

/// The files of `reference/arrays/`: (path within the directory, contents).
pub const ARRAYS: &[(&str, &[u8])] = &[
    (
        "EPIC.controls.sesameData.tsv",
        include_bytes!("../arrays/EPIC.controls.sesameData.tsv"),
    ),
    (
        "HM27.hg38.coord.tsv.gz",
        include_bytes!("../arrays/HM27.hg38.coord.tsv.gz"),
    ),
    (
        "HM27.ordering.tsv.gz",
        include_bytes!("../arrays/HM27.ordering.tsv.gz"),
    ),
    (
        "MANIFEST.sha256",
        include_bytes!("../arrays/MANIFEST.sha256"),
    ),
    (
        "MSA.hg38.coord.tsv.gz",
        include_bytes!("../arrays/MSA.hg38.coord.tsv.gz"),
    ),
    (
        "MSA.ordering.tsv.gz",
        include_bytes!("../arrays/MSA.ordering.tsv.gz"),
    ),
    ("PROVENANCE.md", include_bytes!("../arrays/PROVENANCE.md")),
    (
        "checksums/EPIC.SHA256SUMS",
        include_bytes!("../arrays/checksums/EPIC.SHA256SUMS"),
    ),
    (
        "checksums/EPICv2.SHA256SUMS",
        include_bytes!("../arrays/checksums/EPICv2.SHA256SUMS"),
    ),
    (
        "checksums/MSA.SHA256SUMS",
        include_bytes!("../arrays/checksums/MSA.SHA256SUMS"),
    ),
    (
        "hm450_manifest_probes.csv.gz",
        include_bytes!("../arrays/hm450_manifest_probes.csv.gz"),
    ),
    (
        "hm450_sex_chromosome_probes.tsv.gz",
        include_bytes!("../arrays/hm450_sex_chromosome_probes.tsv.gz"),
    ),
];
