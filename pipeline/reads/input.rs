//! Opening read inputs: format sniffing, headers, and the decoders behind the one-pass engine.
//!
//! Formats are recognised from their first bytes, never from the file name: BAM (BGZF holding
//! `BAM\1`), CRAM (`CRAM` magic), SAM (text whose first line is a header line or an 11-column
//! record), FASTQ (plain, gzip, or BGZF). `-` reads standard input the same way.
//!
//! BAM is inflated in chunks of BGZF blocks in parallel ([`super::bgzf_chunks`], noodles-bgzf with
//! libdeflate per chunk). CRAM containers are read
//! here and decoded in parallel by the engine's workers (noodles-cram); a CRAM that needs a
//! reference gets it only from `--reference` (the header's `UR`/`M5` are never fetched), and a
//! missing one is an error, never an empty result.
//!
//! With the `htslib` cargo feature, a CRAM file (not standard input) is decoded by htslib
//! (rust-htslib) on its own thread pool instead; its header text is parsed by noodles, so the
//! contigs, read groups and build are the same either way. Without `--reference`, htslib may
//! still find a reference on this machine (a local file named by the header's `UR`, or its
//! `REF_CACHE`/`REF_PATH`; it is built without network access), always checked against the
//! slices' MD5s; noodles-cram would stop and ask for `--reference`.

use std::{
    collections::HashMap,
    fs::File,
    io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom},
    num::NonZero,
    path::{Path, PathBuf},
    sync::Arc,
};

use noodles_bam as bam;
use noodles_cram as cram;
use noodles_fasta as fasta;
use noodles_fastq as fastq;
use noodles_sam as sam;

use super::error::ReadError;
use crate::core::{
    build::{detect_build, Build},
    error::Category,
};

/// Recognised input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// BAM.
    Bam,
    /// CRAM 2.1/3.0/3.1.
    Cram,
    /// SAM text (plain or compressed).
    Sam,
    /// FASTQ (plain, gzip or BGZF).
    Fastq,
    /// FASTA reads (plain, gzip or BGZF): long reads without qualities.
    Fasta,
}

impl Format {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Bam => "BAM",
            Format::Cram => "CRAM",
            Format::Sam => "SAM",
            Format::Fastq => "FASTQ",
            Format::Fasta => "FASTA",
        }
    }
}

/// What the user asked to read.
#[derive(Clone, Debug, Default)]
pub struct InputSpec {
    /// Path, or `-` for standard input.
    pub path: String,
    /// Second FASTQ of a pair, read in lockstep with `path`.
    pub path2: Option<String>,
    /// Reference FASTA for CRAM (always wins over the header's `UR`/`M5`).
    pub reference: Option<PathBuf>,
    /// FASTQ holds pairs as consecutive records.
    pub interleaved: bool,
}

/// A read group from the header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadGroup {
    /// `ID`.
    pub id: String,
    /// `SM`, if given.
    pub sample: Option<String>,
    /// `LB`, if given.
    pub library: Option<String>,
}

/// What the header tells about an input.
#[derive(Clone, Debug)]
pub struct InputInfo {
    /// The input's format.
    pub format: Format,
    /// Reference sequences: name and length, in header order.
    pub contigs: Vec<(String, usize)>,
    /// Read groups, in header order.
    pub read_groups: Vec<ReadGroup>,
    /// Build recognised from the contigs.
    pub build: Build,
}

pub(crate) type DynRead = Box<dyn Read + Send>;

/// The open decoders (the engine pulls batches from these).
pub(crate) enum Decoder {
    Bam(bam::io::Reader<super::bgzf_chunks::ChunkedBgzfReader>),
    Sam(sam::io::Reader<Box<dyn BufRead + Send>>),
    Cram(cram::io::Reader<DynRead>),
    /// A CRAM file decoded by htslib (`htslib` feature).
    #[cfg(feature = "htslib")]
    HtsCram(Box<HtsCram>),
    /// FASTA reads (long reads without qualities).
    Fasta(Box<dyn BufRead + Send>),
    Fastq {
        r1: fastq::io::Reader<Box<dyn BufRead + Send>>,
        r2: Option<(String, fastq::io::Reader<Box<dyn BufRead + Send>>)>,
        interleaved: bool,
    },
}

/// An opened input: its header information and its decoder.
pub struct ReadSource {
    /// Input as the user named it.
    pub spec: InputSpec,
    /// Header information.
    pub info: InputInfo,
    pub(crate) decoder: Decoder,
    pub(crate) sam_header: Arc<sam::Header>,
    pub(crate) repository: fasta::Repository,
    pub(crate) read_group_index: Arc<HashMap<Vec<u8>, usize>>,
    /// Where the BGZF readers of this input queue their inflate jobs (run by the read pass's
    /// workers between batches: no inflate threads of their own).
    pub(crate) inflate: super::bgzf_chunks::InflateQueue,
}

const SNIFF_BYTES: usize = 64 * 1024;
const BGZF_EOF: [u8; 28] = [
    0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00, 0x42, 0x43, 0x02, 0x00,
    0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// Compression found by sniffing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Bgzf,
}

/// Opens a path (or stdin for `-`) with its first bytes read ahead for sniffing.
fn open_raw(path: &str) -> Result<(Vec<u8>, DynRead, bool), ReadError> {
    let mut inner: DynRead = if path == "-" {
        Box::new(io::stdin())
    } else {
        let meta = std::fs::metadata(path).map_err(|e| ReadError::io(path, None, &e))?;
        if meta.is_dir() {
            return Err(ReadError::file(path, "is a directory, not a read file"));
        }
        let file = File::open(path).map_err(|e| ReadError::io(path, None, &e))?;
        // Progress of the pass in input bytes (a bar on a terminal, else a line every 30 s).
        let label = std::path::Path::new(path)
            .file_name()
            .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned());
        let progress = crate::core::progress::ByteProgress::new(&label, Some(meta.len()));
        Box::new(crate::core::progress::CountingReader::new(file, progress))
    };
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut inner)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| ReadError::io(path, None, &e))?;
    let complete = head.len() < SNIFF_BYTES;
    Ok((head, inner, complete))
}

fn chain(head: Vec<u8>, rest: DynRead) -> DynRead {
    Box::new(Cursor::new(head).chain(rest))
}

fn sniff_compression(head: &[u8]) -> Compression {
    if head.len() >= 18 && head[0] == 0x1f && head[1] == 0x8b {
        // FEXTRA set and a "BC" subfield in the extra field → BGZF.
        if head[3] & 0x04 != 0 && head[12] == b'B' && head[13] == b'C' {
            return Compression::Bgzf;
        }
        return Compression::Gzip;
    }
    if head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        return Compression::Gzip;
    }
    Compression::None
}

/// The first decompressed bytes of a gzip/BGZF head (partial data at a truncated end is fine).
fn inflate_head(head: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(head);
    let mut buf = [0u8; 8192];
    while out.len() < 16 * 1024 {
        match dec.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

fn sniff_text(path: &str, text: &[u8]) -> Result<Format, ReadError> {
    if text.is_empty() {
        return Err(ReadError::file(path, "empty file"));
    }
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or(text);
    let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
    if first_line.len() >= 4
        && first_line[0] == b'@'
        && [&b"HD"[..], b"SQ", b"RG", b"PG", b"CO"].contains(&&first_line[1..3])
        && first_line[3] == b'\t'
    {
        return Ok(Format::Sam);
    }
    if first_line.first() == Some(&b'@') {
        return Ok(Format::Fastq);
    }
    if first_line.split(|&b| b == b'\t').count() >= 11 {
        return Ok(Format::Sam);
    }
    if first_line.first() == Some(&b'>') {
        return Ok(Format::Fasta);
    }
    Err(ReadError::file(
        path,
        "not a BAM, CRAM, SAM or FASTQ file (unrecognised content at its start)",
    ))
}

/// Passes a BGZF stream through and fails at its end unless its last bytes were the BGZF
/// end-of-file marker: a stream cut between two blocks otherwise decodes cleanly up to the cut.
struct EofMarkerCheck<R> {
    inner: R,
    /// The last (up to 28) bytes passed through.
    tail: Vec<u8>,
}

impl<R: Read> Read for EofMarkerCheck<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if !buf.is_empty() && self.tail[..] != BGZF_EOF[..] {
                // Not UnexpectedEof: the BGZF reader takes that, between blocks, for a clean end.
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "truncated stream: the BGZF end-of-file marker is missing (incomplete copy or download?)",
                ));
            }
            return Ok(0);
        }
        let keep = BGZF_EOF.len();
        if n >= keep {
            self.tail.clear();
            self.tail.extend_from_slice(&buf[n - keep..n]);
        } else {
            self.tail.extend_from_slice(&buf[..n]);
            let excess = self.tail.len().saturating_sub(keep);
            self.tail.drain(..excess);
        }
        Ok(n)
    }
}

/// Every BGZF input (BAM, SAM or FASTQ) must end with the BGZF end-of-file marker, or it was
/// cut: a file's marker is checked up front, a stream's when it ends.
fn bgzf_checked(
    path: &str,
    compression: Compression,
    stream: DynRead,
) -> Result<DynRead, ReadError> {
    if compression != Compression::Bgzf {
        return Ok(stream);
    }
    if path == "-" {
        Ok(Box::new(EofMarkerCheck {
            inner: stream,
            tail: Vec::with_capacity(BGZF_EOF.len()),
        }))
    } else {
        check_bgzf_eof(path)?;
        Ok(stream)
    }
}

/// Checks that a BGZF file on disk ends with the BGZF end-of-file marker.
fn check_bgzf_eof(path: &str) -> Result<(), ReadError> {
    if path == "-" {
        return Ok(());
    }
    let mut f = File::open(path).map_err(|e| ReadError::io(path, None, &e))?;
    let len = f
        .metadata()
        .map_err(|e| ReadError::io(path, None, &e))?
        .len();
    if len < BGZF_EOF.len() as u64 {
        return Err(ReadError::file(
            path,
            "truncated file (shorter than a BGZF end-of-file marker)",
        )
        .with_category(Category::InputTruncated));
    }
    f.seek(SeekFrom::End(-(BGZF_EOF.len() as i64)))
        .map_err(|e| ReadError::io(path, None, &e))?;
    let mut tail = [0u8; 28];
    f.read_exact(&mut tail)
        .map_err(|e| ReadError::io(path, None, &e))?;
    if tail != BGZF_EOF {
        return Err(ReadError::file(
            path,
            "truncated file: the BGZF end-of-file marker is missing (incomplete copy or download?)",
        )
        .with_category(Category::InputTruncated));
    }
    Ok(())
}

/// Opens an input, reads its header, and prepares its decoder.
pub fn open(spec: &InputSpec, threads: usize) -> Result<ReadSource, ReadError> {
    open_with(spec, threads, cfg!(feature = "htslib"))
}

/// [`open`], choosing the CRAM decoder: htslib (`htslib` feature only, files only) or noodles.
pub(crate) fn open_with(
    spec: &InputSpec,
    threads: usize,
    htslib_cram: bool,
) -> Result<ReadSource, ReadError> {
    let path = spec.path.as_str();
    let (head, rest, complete) = open_raw(path)?;
    if head.is_empty() {
        return Err(ReadError::file(path, "empty file"));
    }
    let compression = sniff_compression(&head);
    let (format, inner_head) = if head.starts_with(b"CRAM") {
        (Format::Cram, Vec::new())
    } else {
        match compression {
            Compression::None => (sniff_text(path, &head)?, head.clone()),
            Compression::Gzip | Compression::Bgzf => {
                let inner = inflate_head(&head);
                if inner.starts_with(b"BAM\x01") {
                    (Format::Bam, inner)
                } else if inner.is_empty() {
                    return Err(ReadError::file(
                        path,
                        "compressed data could not be decompressed (corrupt or truncated)",
                    ));
                } else {
                    (sniff_text(path, &inner)?, inner)
                }
            }
        }
    };
    let _ = complete;
    let _ = inner_head;
    let workers = NonZero::new(threads.max(1)).unwrap_or(NonZero::<usize>::MIN);
    let inflate = super::bgzf_chunks::InflateQueue::new();
    let stream = bgzf_checked(path, compression, chain(head, rest))?;

    let mut repository = fasta::Repository::default();
    let (decoder, header) = match format {
        Format::Bam => {
            if compression != Compression::Bgzf {
                return Err(ReadError::file(
                    path,
                    "BAM data that is not BGZF-compressed",
                ));
            }
            let bgzf_reader = super::bgzf_chunks::ChunkedBgzfReader::with_queue(
                stream,
                workers.get(),
                inflate.clone(),
            )
            .map_err(|e| ReadError::io(path, None, &e))?;
            let mut reader = bam::io::Reader::from(bgzf_reader);
            let header = reader.read_header().map_err(|e| {
                ReadError::file(
                    path,
                    format!("invalid BAM header: {}", super::error::describe_io(&e)),
                )
            })?;
            (Decoder::Bam(reader), header)
        }
        Format::Sam => {
            let buf: Box<dyn BufRead + Send> = match compression {
                Compression::None => Box::new(BufReader::with_capacity(1 << 16, stream)),
                Compression::Gzip => Box::new(BufReader::new(GzipEnd(
                    flate2::read::MultiGzDecoder::new(stream),
                ))),
                Compression::Bgzf => Box::new(chunked(path, stream, workers, &inflate)?),
            };
            let mut reader = sam::io::Reader::new(buf);
            let header = reader
                .read_header()
                .map_err(|e| ReadError::file(path, format!("invalid SAM header: {e}")))?;
            (Decoder::Sam(reader), header)
        }
        #[cfg(feature = "htslib")]
        Format::Cram if htslib_cram && path != "-" => {
            let (reader, header) =
                hts::open_cram(path, spec.reference.as_deref(), threads, stream)?;
            (Decoder::HtsCram(Box::new(reader)), header)
        }
        Format::Cram => {
            let _ = htslib_cram;
            if let Some(reference) = &spec.reference {
                repository = open_reference(reference)?;
            }
            let mut reader = cram::io::Reader::new(stream);
            let header = reader.read_header().map_err(|e| {
                ReadError::file(
                    path,
                    format!("invalid CRAM header: {}", super::error::describe_io(&e)),
                )
            })?;
            (Decoder::Cram(reader), header)
        }
        Format::Fasta => (
            Decoder::Fasta(
                fastq_reader(path, compression, stream, workers, &inflate)?.into_inner(),
            ),
            sam::Header::default(),
        ),
        Format::Fastq => {
            let r1 = fastq_reader(path, compression, stream, workers, &inflate)?;
            let r2 = match &spec.path2 {
                Some(p2) => {
                    let (h2, rest2, _) = open_raw(p2)?;
                    if h2.is_empty() {
                        return Err(ReadError::file(p2, "empty file"));
                    }
                    let c2 = sniff_compression(&h2);
                    let inner2 = if c2 == Compression::None {
                        h2.clone()
                    } else {
                        inflate_head(&h2)
                    };
                    if sniff_text(p2, &inner2)? != Format::Fastq {
                        return Err(ReadError::file(p2, "second read file is not FASTQ"));
                    }
                    Some((
                        p2.clone(),
                        fastq_reader(
                            p2,
                            c2,
                            bgzf_checked(p2, c2, chain(h2, rest2))?,
                            workers,
                            &inflate,
                        )?,
                    ))
                }
                None => None,
            };
            (
                Decoder::Fastq {
                    r1,
                    r2,
                    interleaved: spec.interleaved,
                },
                sam::Header::default(),
            )
        }
    };
    if format != Format::Fastq && spec.path2.is_some() {
        return Err(ReadError::file(
            path,
            "a second read file is only accepted with FASTQ input",
        ));
    }

    let contigs: Vec<(String, usize)> = header
        .reference_sequences()
        .iter()
        .map(|(name, rs)| (name.to_string(), rs.length().get()))
        .collect();
    let mut read_groups = Vec::new();
    let mut read_group_index = HashMap::new();
    for (id, rg) in header.read_groups() {
        let field = |tag: [u8; 2]| {
            rg.other_fields()
                .get(&sam::header::record::value::map::tag::Other::try_from(tag).ok()?)
                .map(|v| v.to_string())
        };
        read_group_index.insert(id.to_vec(), read_groups.len());
        read_groups.push(ReadGroup {
            id: id.to_string(),
            sample: field(*b"SM"),
            library: field(*b"LB"),
        });
    }
    let build = if matches!(format, Format::Fastq | Format::Fasta) {
        Build::Unaligned
    } else {
        detect_build(contigs.iter().map(|(n, l)| (n.as_str(), *l)))
    };
    Ok(ReadSource {
        spec: spec.clone(),
        info: InputInfo {
            format,
            contigs,
            read_groups,
            build,
        },
        decoder,
        sam_header: Arc::new(header),
        repository,
        read_group_index: Arc::new(read_group_index),
        inflate,
    })
}

/// A BGZF stream inflated by jobs on `inflate` (see [`super::bgzf_chunks`]).
fn chunked(
    path: &str,
    stream: DynRead,
    workers: NonZero<usize>,
    inflate: &super::bgzf_chunks::InflateQueue,
) -> Result<super::bgzf_chunks::ChunkedBgzfReader, ReadError> {
    super::bgzf_chunks::ChunkedBgzfReader::with_queue(stream, workers.get(), inflate.clone())
        .map_err(|e| ReadError::io(path, None, &e))
}

fn fastq_reader(
    path: &str,
    compression: Compression,
    stream: DynRead,
    workers: NonZero<usize>,
    inflate: &super::bgzf_chunks::InflateQueue,
) -> Result<fastq::io::Reader<Box<dyn BufRead + Send>>, ReadError> {
    let buf: Box<dyn BufRead + Send> = match compression {
        Compression::None => Box::new(BufReader::with_capacity(1 << 16, stream)),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            1 << 16,
            GzipEnd(flate2::read::MultiGzDecoder::new(stream)),
        )),
        Compression::Bgzf => Box::new(chunked(path, stream, workers, inflate)?),
    };
    Ok(fastq::io::Reader::new(buf))
}

/// Opens a reference FASTA for CRAM decoding, indexing it in memory when it has no `.fai`.
pub(crate) fn open_reference(path: &Path) -> Result<fasta::Repository, ReadError> {
    let (index, _) = reference_index(path)?;
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|e| ReadError::io(&shown, None, &e))?;
    let reader = fasta::io::IndexedReader::new(BufReader::new(file), index);
    Ok(fasta::Repository::new(
        fasta::repository::adapters::IndexedReader::new(reader),
    ))
}

/// The index of a reference FASTA: its `.fai` when there is one (`true`), else built in memory.
fn reference_index(path: &Path) -> Result<(fasta::fai::Index, bool), ReadError> {
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(ReadError::file(&shown, "reference FASTA not found")
            .with_category(Category::InputMissing));
    }
    let fai = PathBuf::from(format!("{}.fai", path.display()));
    if fai.exists() {
        let index = fasta::fai::fs::read(&fai).map_err(|e| {
            ReadError::file(
                &fai.display().to_string(),
                format!("invalid FASTA index: {e}"),
            )
        })?;
        Ok((index, true))
    } else {
        let index = fasta::fs::index(path)
            .map_err(|e| ReadError::file(&shown, format!("cannot index reference FASTA: {e}")))?;
        Ok((index, false))
    }
}

/// CRAM through htslib (`htslib` feature).
#[cfg(feature = "htslib")]
pub(crate) mod hts {
    use std::{
        ffi::CString,
        fs::File,
        path::{Path, PathBuf},
        sync::{
            atomic::{AtomicU64, Ordering},
            Once,
        },
    };

    use noodles_cram as cram;
    use noodles_fasta as fasta;
    use noodles_sam as sam;
    use rust_htslib::{
        bam::{self, Read as _},
        htslib,
    };

    use super::{reference_index, DynRead, ReadError};
    use crate::reads::error::describe_io;

    /// An open CRAM file and what is needed to explain its errors.
    pub(crate) struct HtsCram {
        reader: bam::Reader,
        /// `--reference`, if given.
        pub(crate) reference: Option<PathBuf>,
        /// Where the reference is linked beside its index, when it has no `.fai` (dropped after
        /// the reader).
        _reference_link: Option<TempDir>,
    }

    /// How [`HtsCram::read_into`] ended.
    pub(crate) enum HtsRead {
        /// A record was read.
        Record,
        /// The end of the file, after its end-of-file container.
        End,
        /// The file ends without an end-of-file container.
        Truncated,
        /// htslib failed to decode the next record.
        Failed,
    }

    impl HtsCram {
        /// Reads the next record into `rec`. Unlike `bam::Read::read`, this does not attach the
        /// reader's reference-counted header to the record, so records can be handed to other
        /// threads (and dropped there) safely.
        pub(crate) fn read_into(&mut self, rec: &mut bam::Record) -> HtsRead {
            let fp = self.reader.htsfile();
            // SAFETY: `fp` and the header are owned by `self.reader` and live as long as it;
            // `rec` owns its `bam1_t`, which `sam_read1` fills (reallocating its data).
            let ret = unsafe {
                htslib::sam_read1(
                    fp,
                    self.reader.header().inner_ptr() as *mut htslib::sam_hdr_t,
                    rec.inner_mut(),
                )
            };
            match ret {
                r if r >= 0 => HtsRead::Record,
                -1 => {
                    // SAFETY: the file was opened as CRAM, so `fp.cram` is its `cram_fd`.
                    // `cram_eof` is 1 after the end-of-file container, 2 when the data just
                    // stopped.
                    let eof = unsafe { htslib::cram_eof((*fp).fp.cram) };
                    if eof == 2 {
                        HtsRead::Truncated
                    } else {
                        HtsRead::End
                    }
                }
                _ => HtsRead::Failed,
            }
        }
    }

    /// Silences htslib's own messages (errors are reported by agemark, on one line).
    fn quiet_htslib() {
        static ONCE: Once = Once::new();
        // SAFETY: sets a global integer, before any htslib thread of ours exists.
        ONCE.call_once(|| unsafe { htslib::hts_set_log_level(htslib::htsLogLevel_HTS_LOG_OFF) });
    }

    /// Opens `path` (a CRAM file) with htslib, using `reference` and `threads` decoding threads;
    /// returns the reader and its header as noodles reads it. `stream` is the same file opened
    /// for sniffing, read only to word an error when htslib cannot open the file.
    pub(crate) fn open_cram(
        path: &str,
        reference: Option<&Path>,
        threads: usize,
        stream: DynRead,
    ) -> Result<(HtsCram, sam::Header), ReadError> {
        quiet_htslib();
        let mut reader = match bam::Reader::from_path(path) {
            Ok(r) => r,
            Err(e) => {
                // Let noodles say what is wrong with the header, when it can.
                if let Err(ne) = cram::io::Reader::new(stream).read_header() {
                    return Err(ReadError::file(
                        path,
                        format!("invalid CRAM header: {}", describe_io(&ne)),
                    ));
                }
                return Err(ReadError::file(
                    path,
                    format!("htslib cannot open this CRAM file: {e}"),
                ));
            }
        };
        drop(stream);
        let reference_link = match reference {
            Some(reference) => set_reference(reader.htsfile(), reference)?,
            None => None,
        };
        // Decode only the fields the stages use: qualities, TLEN and the other tags are skipped.
        let fields = htslib::sam_fields_SAM_QNAME
            | htslib::sam_fields_SAM_FLAG
            | htslib::sam_fields_SAM_RNAME
            | htslib::sam_fields_SAM_POS
            | htslib::sam_fields_SAM_MAPQ
            | htslib::sam_fields_SAM_CIGAR
            | htslib::sam_fields_SAM_RNEXT
            | htslib::sam_fields_SAM_PNEXT
            | htslib::sam_fields_SAM_SEQ
            | htslib::sam_fields_SAM_RGAUX;
        set_fields(&mut reader, fields)
            .and_then(|()| reader.set_threads(threads.max(1)))
            .map_err(|e| ReadError::file(path, format!("htslib: {e}")))?;
        let text = String::from_utf8_lossy(reader.header().as_bytes()).into_owned();
        let header: sam::Header = text
            .parse()
            .map_err(|e| ReadError::file(path, format!("invalid CRAM header: {e}")))?;
        Ok((
            HtsCram {
                reader,
                reference: reference.map(Path::to_path_buf),
                _reference_link: reference_link,
            },
            header,
        ))
    }

    /// Makes htslib decode only `fields` (and compute no MD/NM tags).
    fn set_fields(
        reader: &mut impl bam::Read,
        fields: htslib::sam_fields,
    ) -> rust_htslib::errors::Result<()> {
        reader.set_cram_options(htslib::hts_fmt_option_CRAM_OPT_REQUIRED_FIELDS, fields)?;
        reader.set_cram_options(htslib::hts_fmt_option_CRAM_OPT_DECODE_MD, 0)
    }

    /// A CRAM file opened with its `.crai` for region queries (mtDNA fast mode), one per thread.
    pub(crate) struct HtsIndexed {
        reader: bam::IndexedReader,
        record: bam::Record,
        /// See [`HtsCram`].
        _reference_link: Option<TempDir>,
    }

    impl HtsIndexed {
        /// Opens `path` and its index.
        pub(crate) fn open(path: &str, reference: Option<&Path>) -> Result<HtsIndexed, ReadError> {
            quiet_htslib();
            let mut reader = bam::IndexedReader::from_path(path).map_err(|e| {
                ReadError::file(path, format!("cannot open with its index (htslib): {e}"))
            })?;
            let reference_link = match reference {
                Some(reference) => set_reference(reader.htsfile(), reference)?,
                None => None,
            };
            // SEQ too: without it htslib would neither need nor check the reference.
            let fields = htslib::sam_fields_SAM_FLAG
                | htslib::sam_fields_SAM_RNAME
                | htslib::sam_fields_SAM_POS
                | htslib::sam_fields_SAM_MAPQ
                | htslib::sam_fields_SAM_CIGAR
                | htslib::sam_fields_SAM_SEQ;
            set_fields(&mut reader, fields)
                .map_err(|e| ReadError::file(path, format!("htslib: {e}")))?;
            Ok(HtsIndexed {
                reader,
                record: bam::Record::new(),
                _reference_link: reference_link,
            })
        }

        /// Starts a query of `[start, end)` (0-based) on contig `tid`; `false` if htslib cannot.
        pub(crate) fn fetch(&mut self, tid: usize, start: u64, end: u64) -> bool {
            match (i32::try_from(tid), i64::try_from(start), i64::try_from(end)) {
                (Ok(t), Ok(s), Ok(e)) => self.reader.fetch((t, s, e)).is_ok(),
                _ => false,
            }
        }

        /// The next record of the query: `None` at its end, `Some(Err(()))` when htslib fails.
        pub(crate) fn next_record(&mut self) -> Option<Result<&bam::Record, ()>> {
            match self.reader.read(&mut self.record) {
                None => None,
                Some(Ok(())) => Some(Ok(&self.record)),
                Some(Err(_)) => Some(Err(())),
            }
        }
    }

    /// Gives htslib the reference FASTA. htslib reads the `.fai` beside it and, when there is
    /// none, writes one there. agemark writes nothing beside the user's files (and the reference
    /// may sit in a read-only folder), so a FASTA without a `.fai` is handed over as a link in a
    /// temporary folder, beside the index built in memory; the folder lives as long as the
    /// reader, since htslib may reopen the FASTA.
    fn set_reference(
        fp: *mut htslib::htsFile,
        reference: &Path,
    ) -> Result<Option<TempDir>, ReadError> {
        let shown = reference.display().to_string();
        let (index, has_fai) = reference_index(reference)?;
        let (arg, temp) = if has_fai || cfg!(not(unix)) {
            (reference.to_path_buf(), None)
        } else {
            let dir = TempDir::new().map_err(|e| {
                ReadError::file(
                    &std::env::temp_dir().display().to_string(),
                    format!("cannot create a temporary folder: {}", describe_io(&e)),
                )
            })?;
            let link = link_reference(reference, &index, &dir.0)
                .map_err(|e| ReadError::io(&dir.0.display().to_string(), None, &e))?;
            (link, Some(dir))
        };
        let c = CString::new(arg.display().to_string())
            .map_err(|_| ReadError::file(&shown, "reference path contains a NUL byte"))?;
        // SAFETY: `fp` is an open file; `c` is a valid C string, which htslib copies.
        let ret = unsafe { htslib::hts_set_fai_filename(fp, c.as_ptr()) };
        if ret != 0 {
            return Err(ReadError::file(
                &shown,
                "htslib cannot load this reference FASTA (or its .fai index)",
            ));
        }
        Ok(temp)
    }

    /// Links `reference` (and its `.gzi`, if any) into `dir` and writes `index` beside the link.
    #[cfg(unix)]
    fn link_reference(
        reference: &Path,
        index: &fasta::fai::Index,
        dir: &Path,
    ) -> std::io::Result<PathBuf> {
        let target = std::fs::canonicalize(reference)?;
        let link = dir.join("reference.fa");
        std::os::unix::fs::symlink(&target, &link)?;
        let gzi = PathBuf::from(format!("{}.gzi", target.display()));
        if gzi.exists() {
            std::os::unix::fs::symlink(&gzi, dir.join("reference.fa.gzi"))?;
        }
        fasta::fai::fs::write(dir.join("reference.fa.fai"), index)?;
        Ok(link)
    }

    #[cfg(not(unix))]
    fn link_reference(
        reference: &Path,
        _index: &fasta::fai::Index,
        _dir: &Path,
    ) -> std::io::Result<PathBuf> {
        Ok(reference.to_path_buf())
    }

    /// A folder in the temporary directory, removed with its files when dropped.
    pub(crate) struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> std::io::Result<TempDir> {
            static SEQ: AtomicU64 = AtomicU64::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let dir = std::env::temp_dir().join(format!(
                "agemark-ref-{}-{}-{nanos}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir(&dir)?;
            Ok(TempDir(dir))
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Opens `path` with noodles, for explaining an htslib decoding error.
    pub(crate) fn noodles_reader(path: &str) -> std::io::Result<cram::io::Reader<File>> {
        File::open(path).map(cram::io::Reader::new)
    }
}

#[cfg(feature = "htslib")]
pub(crate) use hts::HtsCram;

/// A plain-gzip decoder whose early end (a file cut before its gzip trailer) is an error the
/// record parsers pass on: flate2 reports it as `UnexpectedEof`, which noodles' FASTQ and SAM
/// readers take for the end of the records, so a `.fq.gz` missing its last bytes was read as
/// complete (issue 17, defect 12).
struct GzipEnd<R>(R);

impl<R: Read> Read for GzipEnd<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "truncated file: the gzip stream ends before its end-of-stream trailer (cut short in a copy?)",
                )
            } else {
                e
            }
        })
    }
}
