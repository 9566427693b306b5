//! CpG coordinates (450K hg19/hg38, MSA-only hg38) and UCSC hg19/hg38 liftOver chains embedded by
//! agemark.
//!
//! Every file of `reference/coords/` in the agemark repository, as bytes compiled into the crate.
//! The files, their provenance and licences live in the repository's `reference/` (this crate
//! reaches it through a symbolic link; `cargo package` copies the files themselves). agemark looks
//! a file up by name at compile time (`agemark::core::embedded`), so a misspelt or missing name
//! does not build. A test there fails if a file of the directory is not listed here.
#![no_std]

/// The files of `reference/coords/`: (path within the directory, contents).
pub const COORDS: &[(&str, &[u8])] = &[
    ("PROVENANCE.md", include_bytes!("../coords/PROVENANCE.md")),
    (
        "hg19ToHg38.over.chain.gz",
        include_bytes!("../coords/hg19ToHg38.over.chain.gz"),
    ),
    (
        "hg38ToHg19.over.chain.gz",
        include_bytes!("../coords/hg38ToHg19.over.chain.gz"),
    ),
    (
        "hm450_coords.tsv.gz",
        include_bytes!("../coords/hm450_coords.tsv.gz"),
    ),
    ("make_coords.sh", include_bytes!("../coords/make_coords.sh")),
    (
        "msa_only_hg38.tsv.gz",
        include_bytes!("../coords/msa_only_hg38.tsv.gz"),
    ),
];
