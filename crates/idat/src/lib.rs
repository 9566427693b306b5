//! Reader for Illumina **IDAT version 3** files (the binary scanner output of Infinium
//! methylation BeadChips: HM27, 450K, EPIC, EPICv2, MSA), one file per colour channel.
//!
//! This crate knows nothing of the rest of agemark: it turns bytes into an [`Idat`].
//!
//! # Layout (little-endian throughout)
//! The format is not published by Illumina; this follows the description reverse-engineered by
//! Henrik Bengtsson's `illuminaio` (Smith, Baggerly, Bengtsson, Ritchie & Hansen 2013,
//! F1000Research 2:264, doi:10.12688/f1000research.2-264.v1).
//!
//! | bytes | what |
//! |---|---|
//! | 4 | magic `IDAT` |
//! | 8 | version (`i64`, must be 3) |
//! | 4 | number of fields `n` (`i32`) |
//! | n × 10 | field table: code (`u16`) + absolute offset (`i64`) |
//!
//! Fields read: 1000 number of addresses `N` (`i32`); 102 addresses (`N` × `i32`); 103 SDs
//! (`N` × `u16`); 104 means (`N` × `u16`); 107 bead counts (`N` × `u8`); 200 mid block
//! (`i32` count + that many `i32`); 300 run info (`i32` count, then 5 strings each: time, type,
//! parameters, software, version); 400 red/green flag (`i32`); 401–410 and 510 strings
//! (402 barcode, 403 chip type, 404 illuminaio's `MostlyA`, `A` on the HM27 files; 401 and
//! 405–410/510 unnamed). Strings are .NET `BinaryWriter` strings: a 7-bit varint byte length, then UTF-8.
//!
//! # Robustness
//! Every offset and count is checked against the file length before anything is allocated, so
//! a corrupt header gives an [`IdatError`] naming the field and byte offset — never a panic and
//! never an allocation larger than the file (see the property test in this module).

use std::{fmt, io::Read, path::Path};

/// Field codes of IDAT v3.
mod code {
    pub const N_SNPS: u16 = 1000;
    pub const ILLUMINA_ID: u16 = 102;
    pub const SD: u16 = 103;
    pub const MEAN: u16 = 104;
    pub const N_BEADS: u16 = 107;
    pub const MID_BLOCK: u16 = 200;
    pub const RUN_INFO: u16 = 300;
    pub const RED_GREEN: u16 = 400;
    pub const MOSTLY_NULL: u16 = 401;
    pub const BARCODE: u16 = 402;
    pub const CHIP_TYPE: u16 = 403;
    pub const MOSTLY_A: u16 = 404;
}

/// Largest decompressed `.idat.gz` accepted (an EPICv2 IDAT is ~14 MB).
pub const MAX_IDAT_BYTES: u64 = 256 << 20;

/// One scan step recorded in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// When.
    pub time: String,
    /// Step type (`Decoding`, `Scan`, `Register`, `Extract`…).
    pub block_type: String,
    /// Parameters of the step.
    pub parameters: String,
    /// Software.
    pub software: String,
    /// Software version.
    pub version: String,
}

/// One parsed IDAT file (one colour channel of one array).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Idat {
    /// Bead-type addresses (`IlluminaID`), in file order (ascending on real files).
    pub ids: Vec<u32>,
    /// Mean intensity per address.
    pub means: Vec<u16>,
    /// Standard deviation per address.
    pub sds: Vec<u16>,
    /// Number of beads per address.
    pub n_beads: Vec<u8>,
    /// The mid block (a second copy of the addresses on real files).
    pub mid_block: Vec<u32>,
    /// Chip barcode (`4207113116`).
    pub barcode: String,
    /// Chip type (`BeadChip 12x1`, `BeadChip 8x5`…).
    pub chip_type: String,
    /// Red/green flag as stored (not reliable for telling channels apart).
    pub red_green: Option<i32>,
    /// Field 404 (illuminaio's `MostlyA`; `A` on the HM27 files).
    pub mostly_a: String,
    /// Field 401.
    pub mostly_null: String,
    /// Scan history.
    pub run_info: Vec<RunInfo>,
}

impl Idat {
    /// Number of addresses.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the file holds no address.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Why an IDAT could not be read: what, and at which byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdatError {
    /// Byte offset in the (decompressed) file, when the problem is at one place.
    pub offset: Option<u64>,
    /// What is wrong, in lower-case words.
    pub message: String,
}

impl fmt::Display for IdatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            // The caller names the file; the offset only where it says something.
            Some(o) if o > 0 => write!(f, "byte {o}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for IdatError {}

fn err(offset: Option<u64>, message: impl Into<String>) -> IdatError {
    IdatError {
        offset,
        message: message.into(),
    }
}

/// A bounds-checked little-endian cursor.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    field: &'static str,
}

impl<'a> Cursor<'a> {
    fn at(data: &'a [u8], offset: i64, field: &'static str) -> Result<Self, IdatError> {
        if offset < 0 || offset as u64 > data.len() as u64 {
            return Err(err(
                None,
                format!(
                    "field {field}: offset {offset} is outside the file ({} bytes): truncated or corrupt IDAT",
                    data.len()
                ),
            ));
        }
        Ok(Cursor {
            data,
            pos: offset as usize,
            field,
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], IdatError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(err(
                Some(self.pos as u64),
                format!(
                    "field {}: needs {n} bytes but the file ends after {}: truncated IDAT",
                    self.field,
                    self.data.len() - self.pos.min(self.data.len())
                ),
            )),
        }
    }

    fn u8(&mut self) -> Result<u8, IdatError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, IdatError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> Result<i32, IdatError> {
        let b = self.take(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> Result<i64, IdatError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_le_bytes(a))
    }

    /// A count that must fit `each` bytes per item in what is left of the file.
    fn count(&mut self, each: usize) -> Result<usize, IdatError> {
        let at = self.pos as u64;
        let n = self.i32()?;
        self.check_count(n, each, at)
    }

    fn check_count(&self, n: i32, each: usize, at: u64) -> Result<usize, IdatError> {
        let left = self.data.len().saturating_sub(self.pos);
        if n < 0 || (n as usize).saturating_mul(each) > left {
            return Err(err(
                Some(at),
                format!(
                    "field {}: count {n} does not fit in the {left} bytes left: truncated or corrupt IDAT",
                    self.field
                ),
            ));
        }
        Ok(n as usize)
    }

    /// A .NET string: 7-bit varint length + bytes (invalid UTF-8 replaced).
    fn string(&mut self) -> Result<String, IdatError> {
        let at = self.pos as u64;
        let mut len: u64 = 0;
        let mut shift = 0;
        loop {
            let b = self.u8()?;
            len |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 28 {
                return Err(err(
                    Some(at),
                    format!("field {}: string length is not a valid varint", self.field),
                ));
            }
        }
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let bytes = self.take(len)?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// Parses an IDAT v3 file from its bytes.
pub fn parse(data: &[u8]) -> Result<Idat, IdatError> {
    let mut c = Cursor::at(data, 0, "header")?;
    if data.len() < 4 || &data[..4] != b"IDAT" {
        return Err(err(
            Some(0),
            "not an IDAT file (no 'IDAT' magic at the start)",
        ));
    }
    c.take(4)?;
    let version = c.i64()?;
    if version != 3 {
        return Err(err(
            Some(4),
            format!("IDAT version {version}: only version 3 (binary) is supported"),
        ));
    }
    let n_fields = c.count(10)?;
    let mut offsets: Vec<(u16, i64)> = Vec::with_capacity(n_fields);
    for _ in 0..n_fields {
        let code = c.u16()?;
        let off = c.i64()?;
        offsets.push((code, off));
    }
    let find = |code: u16| offsets.iter().find(|(c, _)| *c == code).map(|&(_, o)| o);
    let need = |code: u16, name: &'static str| {
        find(code).ok_or_else(|| err(None, format!("field {name} (code {code}) is missing")))
    };
    let mut idat = Idat::default();
    let n = {
        let mut c = Cursor::at(data, need(code::N_SNPS, "nSNPsRead")?, "nSNPsRead")?;
        c.i32()?
    };
    // Each address takes at least 4 + 2 + 2 + 1 bytes across the four arrays.
    {
        let c = Cursor::at(data, 0, "nSNPsRead")?;
        c.check_count(n, 9, 0)?;
    }
    let n = n as usize;
    {
        let mut c = Cursor::at(data, need(code::ILLUMINA_ID, "IlluminaID")?, "IlluminaID")?;
        let b = c.take(n * 4)?;
        idat.ids = b
            .chunks_exact(4)
            .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
            .collect();
    }
    {
        let mut c = Cursor::at(data, need(code::SD, "SD")?, "SD")?;
        let b = c.take(n * 2)?;
        idat.sds = b
            .chunks_exact(2)
            .map(|x| u16::from_le_bytes([x[0], x[1]]))
            .collect();
    }
    {
        let mut c = Cursor::at(data, need(code::MEAN, "Mean")?, "Mean")?;
        let b = c.take(n * 2)?;
        idat.means = b
            .chunks_exact(2)
            .map(|x| u16::from_le_bytes([x[0], x[1]]))
            .collect();
    }
    {
        let mut c = Cursor::at(data, need(code::N_BEADS, "NBeads")?, "NBeads")?;
        idat.n_beads = c.take(n)?.to_vec();
    }
    if let Some(o) = find(code::MID_BLOCK) {
        let mut c = Cursor::at(data, o, "MidBlock")?;
        let k = c.count(4)?;
        let b = c.take(k * 4)?;
        idat.mid_block = b
            .chunks_exact(4)
            .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
            .collect();
    }
    if let Some(o) = find(code::RUN_INFO) {
        let mut c = Cursor::at(data, o, "RunInfo")?;
        // Each entry has five strings of at least one length byte.
        let k = c.count(5)?;
        for _ in 0..k {
            idat.run_info.push(RunInfo {
                time: c.string()?,
                block_type: c.string()?,
                parameters: c.string()?,
                software: c.string()?,
                version: c.string()?,
            });
        }
    }
    if let Some(o) = find(code::RED_GREEN) {
        idat.red_green = Some(Cursor::at(data, o, "RedGreen")?.i32()?);
    }
    let string_field = |code: u16, name: &'static str| -> Result<String, IdatError> {
        match find(code) {
            Some(o) => Cursor::at(data, o, name)?.string(),
            None => Ok(String::new()),
        }
    };
    idat.barcode = string_field(code::BARCODE, "Barcode")?;
    idat.chip_type = string_field(code::CHIP_TYPE, "ChipType")?;
    idat.mostly_a = string_field(code::MOSTLY_A, "MostlyA")?;
    idat.mostly_null = string_field(code::MOSTLY_NULL, "MostlyNull")?;
    Ok(idat)
}

/// Reads an IDAT file (plain or gzip-compressed, as GEO ships them). The errors do not repeat
/// the path: the caller names the file ("x_Grn.idat: byte 1,204: …").
pub fn read(path: &Path) -> Result<Idat, IdatError> {
    let file = std::fs::File::open(path).map_err(|e| err(None, format!("cannot open: {e}")))?;
    let mut data = Vec::new();
    let mut head = [0u8; 2];
    let mut f = std::io::BufReader::new(file);
    let got = f
        .read(&mut head)
        .map_err(|e| err(None, format!("cannot read: {e}")))?;
    data.extend_from_slice(&head[..got]);
    let result = if got == 2 && head == [0x1f, 0x8b] {
        let chained = std::io::Cursor::new(data.clone()).chain(f);
        data.clear();
        flate2::read::MultiGzDecoder::new(chained)
            .take(MAX_IDAT_BYTES + 1)
            .read_to_end(&mut data)
    } else {
        f.take(MAX_IDAT_BYTES + 1).read_to_end(&mut data)
    };
    result.map_err(|e| err(None, format!("cannot read: {e}")))?;
    if data.len() as u64 > MAX_IDAT_BYTES {
        return Err(err(
            None,
            format!("larger than {MAX_IDAT_BYTES} bytes: not an IDAT"),
        ));
    }
    parse(&data)
}

/// Encodes an [`Idat`] as IDAT v3 bytes (fields in the order real files have them); used to
/// write synthetic test and benchmark files. `parse(&write(x)) == x` for any `x` whose arrays
/// have equal lengths.
pub fn write(idat: &Idat) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &str) {
        let mut n = s.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
        out.extend_from_slice(s.as_bytes());
    }
    let n = idat.ids.len();
    let fields: [u16; 12] = [
        code::N_SNPS,
        code::ILLUMINA_ID,
        code::SD,
        code::MEAN,
        code::N_BEADS,
        code::MID_BLOCK,
        code::RUN_INFO,
        code::RED_GREEN,
        code::MOSTLY_NULL,
        code::BARCODE,
        code::CHIP_TYPE,
        code::MOSTLY_A,
    ];
    let mut out = Vec::with_capacity(n * 13 + 1024);
    out.extend_from_slice(b"IDAT");
    out.extend_from_slice(&3i64.to_le_bytes());
    out.extend_from_slice(&(fields.len() as i32).to_le_bytes());
    let table_at = out.len();
    out.resize(table_at + fields.len() * 10, 0);
    for (k, &f) in fields.iter().enumerate() {
        let at = out.len() as i64;
        let slot = table_at + k * 10;
        out[slot..slot + 2].copy_from_slice(&f.to_le_bytes());
        out[slot + 2..slot + 10].copy_from_slice(&at.to_le_bytes());
        match f {
            code::N_SNPS => out.extend_from_slice(&(n as i32).to_le_bytes()),
            code::ILLUMINA_ID => idat
                .ids
                .iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            code::SD => idat
                .sds
                .iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            code::MEAN => idat
                .means
                .iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            code::N_BEADS => out.extend_from_slice(&idat.n_beads),
            code::MID_BLOCK => {
                out.extend_from_slice(&(idat.mid_block.len() as i32).to_le_bytes());
                idat.mid_block
                    .iter()
                    .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
            }
            code::RUN_INFO => {
                out.extend_from_slice(&(idat.run_info.len() as i32).to_le_bytes());
                for r in &idat.run_info {
                    for s in [
                        &r.time,
                        &r.block_type,
                        &r.parameters,
                        &r.software,
                        &r.version,
                    ] {
                        string(&mut out, s);
                    }
                }
            }
            code::RED_GREEN => out.extend_from_slice(&idat.red_green.unwrap_or(0).to_le_bytes()),
            code::MOSTLY_NULL => string(&mut out, &idat.mostly_null),
            code::BARCODE => string(&mut out, &idat.barcode),
            code::CHIP_TYPE => string(&mut out, &idat.chip_type),
            _ => string(&mut out, &idat.mostly_a),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real(name: &str) -> Vec<u8> {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/data/array/hm27_idat")
                .join(name),
        )
        .expect("real HM27 IDAT in the workspace's tests/data/array/hm27_idat")
    }

    #[test]
    fn reads_the_real_hm27_idats() {
        for name in [
            "4207113116_A_Grn.idat",
            "4207113116_A_Red.idat",
            "4207113116_B_Grn.idat",
            "4207113116_B_Red.idat",
        ] {
            let x = parse(&real(name)).unwrap();
            // methylprep and the sesameData PROVENANCE: 55,300 addresses, this barcode/chip.
            assert_eq!(x.len(), 55_300, "{name}");
            assert_eq!(x.barcode, "4207113116");
            assert_eq!(x.chip_type, "BeadChip 12x1");
            assert_eq!(x.means.len(), 55_300);
            assert_eq!(x.sds.len(), 55_300);
            assert_eq!(x.n_beads.len(), 55_300);
            assert_eq!(
                x.mid_block, x.ids,
                "{name}: mid block repeats the addresses"
            );
            assert!(
                x.ids.windows(2).all(|w| w[0] < w[1]),
                "{name}: sorted addresses"
            );
            assert!(!x.run_info.is_empty());
            assert!(x.run_info.iter().any(|r| r.block_type == "Decoding"));
            // Round trip through the writer.
            assert_eq!(parse(&write(&x)).unwrap(), x);
        }
    }

    #[test]
    fn reads_gzipped_idats_as_geo_ships_them() {
        use std::io::Write;
        let raw = real("4207113116_A_Red.idat");
        let dir = tempfile::tempdir().unwrap();
        let gz = dir.path().join("x_Red.idat.gz");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&raw).unwrap();
        std::fs::write(&gz, e.finish().unwrap()).unwrap();
        assert_eq!(read(&gz).unwrap(), parse(&raw).unwrap());
        // A truncated gzip is an error (the caller names the file; the message does not repeat it).
        let bytes = std::fs::read(&gz).unwrap();
        std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
        let e = read(&gz).unwrap_err();
        assert!(e.message.starts_with("cannot read: "), "{e}");
        assert!(!e.message.contains("x_Red.idat.gz"), "{e}");
    }

    #[test]
    fn clear_errors_on_bad_headers() {
        let good = real("4207113116_A_Grn.idat");
        assert!(parse(b"").unwrap_err().message.contains("not an IDAT"));
        assert!(parse(b"IDAX").unwrap_err().message.contains("not an IDAT"));
        let mut v = good.clone();
        v[4] = 1;
        assert!(parse(&v).unwrap_err().message.contains("version 1"));
        let e = parse(&good[..good.len() / 2]).unwrap_err();
        assert!(e.message.contains("truncated"), "{e}");
        // A huge address count is refused before any allocation.
        let mut v = good.clone();
        let n_at = i64::from_le_bytes(v[18..26].try_into().unwrap()) as usize;
        v[n_at..n_at + 4].copy_from_slice(&i32::MAX.to_le_bytes());
        let e = parse(&v).unwrap_err();
        assert!(e.message.contains("does not fit"), "{e}");
    }

    /// Property test standing in for `cargo fuzz` (which needs a nightly compiler; CI here runs
    /// stable; `fuzz/` holds a target for those who have one): thousands of mutated and
    /// truncated copies of the real IDATs (byte flips, header fields set to extreme values,
    /// truncation, inserted and deleted bytes, random files): the parser never panics, and
    /// whatever it accepts has arrays of one length and no allocation beyond the file size.
    #[test]
    fn parser_never_panics_on_mutated_idats() {
        let seeds = [real("4207113116_A_Grn.idat"), real("4207113116_B_Red.idat")];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m.max(1)
        };
        let extremes: [[u8; 8]; 5] = [
            [0xff; 8],
            [0; 8],
            (i32::MAX as i64).to_le_bytes(),
            (-1i64).to_le_bytes(),
            [0x80, 0, 0, 0, 0, 0, 0, 0x80],
        ];
        for iter in 0..1000u64 {
            let mut data = seeds[rnd(2) as usize].clone();
            if iter % 100 == 0 {
                data = (0..rnd(400)).map(|_| rnd(256) as u8).collect();
                if rnd(2) == 0 && data.len() >= 4 {
                    data[..4].copy_from_slice(b"IDAT");
                }
            }
            for _ in 0..=rnd(4) {
                if data.is_empty() {
                    break;
                }
                // Bias mutations toward the header and the trailing string/run-info block.
                let at = match rnd(3) {
                    0 => rnd(data.len().min(200) as u64) as usize,
                    1 => data.len() - 1 - rnd(data.len().min(1200) as u64) as usize,
                    _ => rnd(data.len() as u64) as usize,
                };
                match rnd(6) {
                    0 => data[at] = rnd(256) as u8,
                    1 => {
                        let e = extremes[rnd(5) as usize];
                        let k = (data.len() - at).min(1 + rnd(8) as usize);
                        data[at..at + k].copy_from_slice(&e[..k]);
                    }
                    2 => data.truncate(at),
                    3 => data.insert(at, rnd(256) as u8),
                    4 => {
                        let end = (at + rnd(16) as usize).min(data.len());
                        data.drain(at..end);
                    }
                    _ => data[at] ^= 1 << rnd(8),
                }
            }
            let result = std::panic::catch_unwind(|| parse(&data));
            let Ok(result) = result else {
                panic!("parser panicked on mutation {iter} ({} bytes)", data.len());
            };
            if let Ok(idat) = result {
                let n = idat.ids.len();
                assert_eq!(idat.means.len(), n);
                assert_eq!(idat.sds.len(), n);
                assert_eq!(idat.n_beads.len(), n);
                assert!(n * 9 <= data.len());
                assert!(idat.mid_block.len() * 4 <= data.len());
            }
        }
    }
}
