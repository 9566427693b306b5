//! Indexed region queries (BAI/CSI for BAM, CRAI for CRAM), for stages that read only part of
//! a file (mtDNA fast mode). Each thread opens its own [`RegionReader`]. With the `htslib`
//! feature, CRAM regions are decoded by htslib (noodles-cram words its errors).

use std::{fs::File, path::Path};

use noodles_bam as bam;
use noodles_bgzf as bgzf;
use noodles_core::{Position, Region};
use noodles_cram as cram;
use noodles_sam as sam;

use crate::core::error::Category;

use super::{
    error::{describe_io, ReadError},
    input::{open, Format, InputInfo, InputSpec},
    view::{cigar, CigarOp},
};

/// One alignment as the region readers hand it over.
#[derive(Clone, Debug, Default)]
pub struct Aligned {
    /// SAM flags.
    pub flags: u16,
    /// Mapping quality (255 = missing).
    pub mapq: u8,
    /// Reference index.
    pub tid: Option<usize>,
    /// 0-based start.
    pub pos: u64,
    /// CIGAR.
    pub cigar: Vec<CigarOp>,
}

/// An indexed input, checked to have its index.
pub struct IndexedInput {
    spec: InputSpec,
    /// Header information.
    pub info: InputInfo,
    header: sam::Header,
}

/// A per-thread reader of regions.
pub enum RegionReader {
    /// BAM with BAI/CSI.
    Bam(bam::io::IndexedReader<bgzf::io::Reader<File>>),
    /// CRAM with CRAI.
    Cram(Box<cram::io::IndexedReader<File>>),
    /// CRAM with CRAI, decoded by htslib (`htslib` feature).
    #[cfg(feature = "htslib")]
    HtsCram(Box<HtsRegions>),
}

/// htslib's reader of CRAM regions (`htslib` feature).
#[cfg(feature = "htslib")]
pub struct HtsRegions(super::input::hts::HtsIndexed);

impl IndexedInput {
    /// Opens the input's header and checks that an index is there.
    pub fn open(spec: &InputSpec) -> Result<IndexedInput, ReadError> {
        let path = spec.path.as_str();
        if path == "-" {
            return Err(ReadError::file(
                path,
                "fast mode needs an indexed file, not standard input (use --mode full)",
            ));
        }
        let source = open(spec, 1)?;
        let info = source.info.clone();
        let header = (*source.sam_header).clone();
        let candidates: &[&str] = match info.format {
            Format::Bam => &["bai", "csi"],
            Format::Cram => &["crai"],
            _ => {
                return Err(ReadError::file(
                    path,
                    format!(
                    "fast mode reads an index, so it needs BAM or CRAM, not {} (use --mode full)",
                    info.format.as_str()
                ),
                ))
            }
        };
        let has_index = candidates
            .iter()
            .any(|ext| Path::new(&format!("{path}.{ext}")).exists())
            || (info.format == Format::Bam && Path::new(path).with_extension("bai").exists());
        if !has_index {
            return Err(ReadError::file(
                path,
                format!(
                    "fast mode needs an index ({}) beside the file: run `samtools index {path}`, or use --mode full",
                    candidates.iter().map(|e| format!(".{e}")).collect::<Vec<_>>().join(" or ")
                ),
            ));
        }
        Ok(IndexedInput {
            spec: spec.clone(),
            info,
            header,
        })
    }

    /// A reader for this thread.
    pub fn reader(&self) -> Result<RegionReader, ReadError> {
        let path = self.spec.path.as_str();
        let err = |e: std::io::Error| {
            ReadError::file(
                path,
                format!("cannot open with its index: {}", describe_io(&e)),
            )
        };
        match self.info.format {
            Format::Bam => {
                let mut r = bam::io::indexed_reader::Builder::default()
                    .build_from_path(path)
                    .map_err(err)?;
                r.read_header().map_err(err)?;
                Ok(RegionReader::Bam(r))
            }
            #[cfg(feature = "htslib")]
            _ => Ok(RegionReader::HtsCram(Box::new(HtsRegions(
                super::input::hts::HtsIndexed::open(path, self.spec.reference.as_deref())?,
            )))),
            #[cfg(not(feature = "htslib"))]
            _ => self.noodles_cram_reader(),
        }
    }

    /// A noodles-cram reader for this thread.
    fn noodles_cram_reader(&self) -> Result<RegionReader, ReadError> {
        let path = self.spec.path.as_str();
        let err = |e: std::io::Error| {
            ReadError::file(
                path,
                format!("cannot open with its index: {}", describe_io(&e)),
            )
        };
        let mut builder = cram::io::indexed_reader::Builder::default();
        if let Some(reference) = &self.spec.reference {
            builder =
                builder.set_reference_sequence_repository(super::input::open_reference(reference)?);
        }
        let mut r = builder.build_from_path(path).map_err(err)?;
        r.read_header().map_err(err)?;
        Ok(RegionReader::Cram(Box::new(r)))
    }

    /// Calls `f` for every alignment overlapping `[start, end)` (0-based) of contig `tid`.
    pub fn query(
        &self,
        reader: &mut RegionReader,
        tid: usize,
        start: u64,
        end: u64,
        mut f: impl FnMut(&Aligned),
    ) -> Result<(), ReadError> {
        self.query_dyn(reader, tid, start, end, &mut f)
    }

    fn query_dyn(
        &self,
        reader: &mut RegionReader,
        tid: usize,
        start: u64,
        end: u64,
        f: &mut dyn FnMut(&Aligned),
    ) -> Result<(), ReadError> {
        let path = self.spec.path.as_str();
        let (name, _) = &self.info.contigs[tid];
        let (Some(s), Some(e)) = (
            Position::new(start as usize + 1),
            Position::new(end as usize),
        ) else {
            return Ok(());
        };
        let region = Region::new(name.as_str(), s..=e);
        let err = |e: std::io::Error| {
            ReadError::file(
                path,
                format!("region {name}:{}-{end}: {}", start + 1, describe_io(&e)),
            )
        };
        let mut a = Aligned::default();
        match reader {
            RegionReader::Bam(r) => {
                let query = r.query(&self.header, &region).map_err(err)?;
                for rec in query.records() {
                    let rec = rec.map_err(err)?;
                    a.flags = rec.flags().bits();
                    a.mapq = rec.mapping_quality().map(u8::from).unwrap_or(255);
                    a.tid = rec.reference_sequence_id().transpose().map_err(err)?;
                    a.pos = rec
                        .alignment_start()
                        .transpose()
                        .map_err(err)?
                        .map_or(0, |p| usize::from(p) as u64 - 1);
                    a.cigar.clear();
                    for chunk in rec.cigar().as_bytes().chunks_exact(4) {
                        let v = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                        a.cigar.push(CigarOp {
                            kind: (v & 0xf) as u8,
                            len: v >> 4,
                        });
                    }
                    f(&a);
                }
            }
            #[cfg(feature = "htslib")]
            RegionReader::HtsCram(r) => {
                let r = &mut r.0;
                let mut failed = !r.fetch(tid, start, end);
                while !failed {
                    match r.next_record() {
                        None => break,
                        Some(Ok(rec)) => {
                            fill_from_hts(rec, &mut a, path)?;
                            f(&a);
                        }
                        Some(Err(())) => failed = true,
                    }
                }
                if failed {
                    // Let noodles-cram say what is wrong (a missing or wrong reference, …).
                    let mut noodles = self.noodles_cram_reader()?;
                    self.query_dyn(&mut noodles, tid, start, end, &mut |_| {})?;
                    return Err(ReadError::file(
                        path,
                        format!(
                            "region {name}:{}-{end}: htslib cannot decode this CRAM region (corrupt data?)",
                            start + 1
                        ),
                    ));
                }
            }
            RegionReader::Cram(r) => {
                let header = &self.header;
                let has_reference = self.spec.reference.is_some();
                let outcome = super::engine::quietly_catch(|| -> Result<(), ReadError> {
                    let query = r.query(header, &region).map_err(err)?;
                    for rec in query.records() {
                        let rec = rec.map_err(err)?;
                        fill_from_alignment(&rec, header, &mut a, path)?;
                        f(&a);
                    }
                    Ok(())
                });
                match outcome {
                    Ok(r) => r?,
                    Err(()) => {
                        return Err(ReadError::file(
                            path,
                            if has_reference {
                                "the reference FASTA given with --reference lacks a sequence this CRAM needs (wrong reference?)"
                            } else {
                                "this CRAM needs its reference sequence to decode: pass --reference ref.fa"
                            },
                        )
                        .with_category(Category::ReferenceMismatch))
                    }
                }
            }
        }
        Ok(())
    }
}

/// An htslib record (CRAM, `htslib` feature), as [`fill_from_alignment`] fills a noodles one.
#[cfg(feature = "htslib")]
fn fill_from_hts(
    rec: &rust_htslib::bam::Record,
    a: &mut Aligned,
    path: &str,
) -> Result<(), ReadError> {
    let core = &rec.inner().core;
    a.flags = core.flag;
    // CRAM stores no mapping quality for unmapped reads: htslib says 0, noodles "missing".
    a.mapq = if core.flag & super::view::flags::UNMAPPED != 0 {
        255
    } else {
        core.qual
    };
    a.tid = usize::try_from(core.tid).ok();
    a.pos = u64::try_from(core.pos).unwrap_or(0);
    a.cigar.clear();
    for &v in rec.raw_cigar() {
        let kind = (v & 0xf) as u8;
        if kind > cigar::X {
            return Err(ReadError::file(
                path,
                format!("invalid CIGAR operation code {kind}"),
            ));
        }
        a.cigar.push(CigarOp { kind, len: v >> 4 });
    }
    Ok(())
}

fn fill_from_alignment(
    rec: &dyn sam::alignment::Record,
    header: &sam::Header,
    a: &mut Aligned,
    path: &str,
) -> Result<(), ReadError> {
    use sam::alignment::record::cigar::op::Kind;
    a.flags = rec
        .flags()
        .map_err(|e| ReadError::file(path, e.to_string()))?
        .bits();
    a.mapq = rec
        .mapping_quality()
        .transpose()
        .map_err(|e| ReadError::file(path, e.to_string()))?
        .map_or(255, u8::from);
    a.tid = rec
        .reference_sequence_id(header)
        .transpose()
        .map_err(|e| ReadError::file(path, e.to_string()))?;
    a.pos = rec
        .alignment_start()
        .transpose()
        .map_err(|e| ReadError::file(path, e.to_string()))?
        .map_or(0, |p| usize::from(p) as u64 - 1);
    a.cigar.clear();
    for op in rec.cigar().iter() {
        let op = op.map_err(|e| ReadError::file(path, e.to_string()))?;
        let kind = match op.kind() {
            Kind::Match => cigar::M,
            Kind::Insertion => cigar::I,
            Kind::Deletion => cigar::D,
            Kind::Skip => cigar::N,
            Kind::SoftClip => cigar::S,
            Kind::HardClip => cigar::H,
            Kind::Pad => cigar::P,
            Kind::SequenceMatch => cigar::EQ,
            Kind::SequenceMismatch => cigar::X,
        };
        a.cigar.push(CigarOp {
            kind,
            len: op.len() as u32,
        });
    }
    Ok(())
}

/// htslib's region queries against noodles-cram's (`htslib` feature).
#[cfg(all(test, feature = "htslib"))]
mod htslib_tests {
    use std::path::{Path, PathBuf};

    use super::*;

    type Row = (u16, u8, Option<usize>, u64, Vec<CigarOp>);

    fn rows(
        input: &IndexedInput,
        reader: &mut RegionReader,
        tid: usize,
        s: u64,
        e: u64,
    ) -> Vec<Row> {
        let mut v = Vec::new();
        input
            .query(reader, tid, s, e, |a| {
                v.push((a.flags, a.mapq, a.tid, a.pos, a.cigar.clone()))
            })
            .unwrap();
        v
    }

    fn seq(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/seq")
            .join(name)
    }

    #[test]
    fn htslib_and_noodles_regions_agree() {
        for (cram, reference) in [
            ("htsnexus_test_NA12878.cram", None),
            ("HG03478_MT.cram", Some(seq("ref/MT.fa"))),
        ] {
            let spec = InputSpec {
                path: seq(cram).display().to_string(),
                reference,
                ..InputSpec::default()
            };
            let input = IndexedInput::open(&spec).unwrap();
            let mut hts = input.reader().unwrap();
            assert!(matches!(hts, RegionReader::HtsCram(_)));
            let mut noodles = input.noodles_cram_reader().unwrap();
            let mut total = 0;
            for (tid, (_, len)) in input.info.contigs.iter().enumerate() {
                let len = *len as u64;
                for (s, e) in [(0, len), (len / 3, len / 3 + 5_000), (len / 2, len / 2 + 1)] {
                    let a = rows(&input, &mut hts, tid, s, e);
                    let b = rows(&input, &mut noodles, tid, s, e);
                    assert_eq!(a, b, "{cram}: contig {tid}, [{s}, {e})");
                    total += a.len();
                }
            }
            assert!(total > 1000, "{cram}: {total} reads compared");
        }
    }
}
