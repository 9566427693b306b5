//! Indexed region queries (BAI/CSI for BAM, CRAI for CRAM), for stages that read only part of
//! a file (mtDNA fast mode). Each thread opens its own [`RegionReader`].

use std::{fs::File, path::Path};

use noodles_bam as bam;
use noodles_bgzf as bgzf;
use noodles_core::{Position, Region};
use noodles_cram as cram;
use noodles_sam as sam;

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
}

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
            _ => {
                let mut builder = cram::io::indexed_reader::Builder::default();
                if let Some(reference) = &self.spec.reference {
                    builder = builder.set_reference_sequence_repository(
                        super::input::open_reference(reference)?,
                    );
                }
                let mut r = builder.build_from_path(path).map_err(err)?;
                r.read_header().map_err(err)?;
                Ok(RegionReader::Cram(Box::new(r)))
            }
        }
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
            RegionReader::Cram(r) => {
                let header = &self.header;
                let has_reference = self.spec.reference.is_some();
                let outcome = super::engine::quietly_catch(|| -> Result<(), ReadError> {
                    let query = r.query(header, &region).map_err(err)?;
                    for rec in query.records() {
                        let rec = rec.map_err(err)?;
                        fill_from_alignment(&rec, header, &mut a)
                            .map_err(|m| ReadError::file(path, m))?;
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
                        ))
                    }
                }
            }
        }
        Ok(())
    }
}

fn fill_from_alignment(
    rec: &dyn sam::alignment::Record,
    header: &sam::Header,
    a: &mut Aligned,
) -> Result<(), String> {
    use sam::alignment::record::cigar::op::Kind;
    a.flags = rec.flags().map_err(|e| e.to_string())?.bits();
    a.mapq = rec
        .mapping_quality()
        .transpose()
        .map_err(|e| e.to_string())?
        .map_or(255, u8::from);
    a.tid = rec
        .reference_sequence_id(header)
        .transpose()
        .map_err(|e| e.to_string())?;
    a.pos = rec
        .alignment_start()
        .transpose()
        .map_err(|e| e.to_string())?
        .map_or(0, |p| usize::from(p) as u64 - 1);
    a.cigar.clear();
    for op in rec.cigar().iter() {
        let op = op.map_err(|e| e.to_string())?;
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
