//! Small real read subsets and a demo cohort that `agemark demo` runs on.
//!
//! Every file of `reference/demo/` in the agemark repository, as bytes compiled into the crate. The
//! files, their provenance and licences live in the repository's `reference/` (this crate reaches
//! it through a symbolic link; `cargo package` copies the files themselves). agemark looks a file
//! up by name at compile time (`agemark::core::embedded`), so a misspelt or missing name does not
//! build. A test there fails if a file of the directory is not listed here.
#![no_std]

/// The files of `reference/demo/`: (path within the directory, contents).
pub const DEMO: &[(&str, &[u8])] = &[
    ("HG03478_MT.bam", include_bytes!("../demo/HG03478_MT.bam")),
    (
        "HG03478_MT.bam.bai",
        include_bytes!("../demo/HG03478_MT.bam.bai"),
    ),
    ("PROVENANCE.md", include_bytes!("../demo/PROVENANCE.md")),
    (
        "adam_interleaved_telomeric_250bp.ifq.fq",
        include_bytes!("../demo/adam_interleaved_telomeric_250bp.ifq.fq"),
    ),
    (
        "cohort/README.md",
        include_bytes!("../demo/cohort/README.md"),
    ),
    (
        "cohort/demo_betas.csv.gz",
        include_bytes!("../demo/cohort/demo_betas.csv.gz"),
    ),
    (
        "cohort/make_demo_cohort.py",
        include_bytes!("../demo/cohort/make_demo_cohort.py"),
    ),
    (
        "cohort/samplesheet.csv",
        include_bytes!("../demo/cohort/samplesheet.csv"),
    ),
    (
        "computel_DRR016840_telreads.bam",
        include_bytes!("../demo/computel_DRR016840_telreads.bam"),
    ),
    (
        "computel_DRR016840_telreads.bam.bai",
        include_bytes!("../demo/computel_DRR016840_telreads.bam.bai"),
    ),
    (
        "telseq_test3_ERS037288_chr1tel.bam",
        include_bytes!("../demo/telseq_test3_ERS037288_chr1tel.bam"),
    ),
    (
        "telseq_test3_ERS037288_chr1tel.bam.bai",
        include_bytes!("../demo/telseq_test3_ERS037288_chr1tel.bam.bai"),
    ),
];
