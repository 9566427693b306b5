//! Parquet twin of the TSV table: same columns, same order. Text columns are UTF-8 strings,
//! `value` an optional double, `n_used` an optional int64. Snappy-compressed, one row group.

use std::{io, sync::Arc};

use parquet::{
    basic::Compression,
    data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type},
    file::{properties::WriterProperties, writer::SerializedFileWriter},
    schema::parser::parse_message_type,
};

use super::Row;

const SCHEMA: &str = "message agemark_tidy {
  REQUIRED BYTE_ARRAY sample_id (UTF8);
  REQUIRED BYTE_ARRAY assay (UTF8);
  REQUIRED BYTE_ARRAY measure (UTF8);
  OPTIONAL DOUBLE value;
  REQUIRED BYTE_ARRAY unit (UTF8);
  REQUIRED BYTE_ARRAY method (UTF8);
  OPTIONAL INT64 n_used;
  REQUIRED BYTE_ARRAY qc_status (UTF8);
  REQUIRED BYTE_ARRAY qc_note (UTF8);
  REQUIRED BYTE_ARRAY read_group (UTF8);
  REQUIRED BYTE_ARRAY input (UTF8);
  REQUIRED BYTE_ARRAY reference_build (UTF8);
  REQUIRED BYTE_ARRAY agemark_version (UTF8);
}";

fn to_io(e: parquet::errors::ParquetError) -> io::Error {
    // An I/O error inside (a full disk) comes back as itself, not as "External: …".
    match e {
        parquet::errors::ParquetError::External(inner) => match inner.downcast::<io::Error>() {
            Ok(io) => *io,
            Err(other) => io::Error::other(other),
        },
        e => io::Error::other(e),
    }
}

/// The cells of one Parquet column, in row order.
pub(crate) enum ParquetColumn<'a> {
    /// An optional double (`None` is null).
    Double(Vec<Option<f64>>),
    /// An optional int64 (`None` is null).
    Int64(Vec<Option<i64>>),
    /// A required UTF-8 string.
    Text(Vec<&'a str>),
    /// An optional UTF-8 string (`None` is null).
    OptionalText(Vec<Option<&'a str>>),
}

/// Writes one Snappy-compressed row group under `schema` (Parquet message text), asking
/// `column(index)` for each column's cells in schema order.
pub(crate) fn write_columns<'a, W: io::Write + Send>(
    w: W,
    schema: &str,
    mut column: impl FnMut(usize) -> ParquetColumn<'a>,
) -> io::Result<()> {
    let schema = Arc::new(parse_message_type(schema).map_err(to_io)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("agemark {}", crate::core::AGEMARK_VERSION))
            .build(),
    );
    let mut writer = SerializedFileWriter::new(w, schema, props).map_err(to_io)?;
    let mut group = writer.next_row_group().map_err(to_io)?;
    let mut index = 0usize;
    while let Some(mut col) = group.next_column().map_err(to_io)? {
        match column(index) {
            ParquetColumn::Double(cells) => {
                let values: Vec<f64> = cells.iter().filter_map(|v| *v).collect();
                let defs: Vec<i16> = cells.iter().map(|v| i16::from(v.is_some())).collect();
                col.typed::<DoubleType>()
                    .write_batch(&values, Some(&defs), None)
                    .map_err(to_io)?;
            }
            ParquetColumn::Int64(cells) => {
                let values: Vec<i64> = cells.iter().filter_map(|v| *v).collect();
                let defs: Vec<i16> = cells.iter().map(|v| i16::from(v.is_some())).collect();
                col.typed::<Int64Type>()
                    .write_batch(&values, Some(&defs), None)
                    .map_err(to_io)?;
            }
            ParquetColumn::Text(cells) => {
                let values: Vec<ByteArray> = cells.into_iter().map(ByteArray::from).collect();
                col.typed::<ByteArrayType>()
                    .write_batch(&values, None, None)
                    .map_err(to_io)?;
            }
            ParquetColumn::OptionalText(cells) => {
                let values: Vec<ByteArray> = cells
                    .iter()
                    .filter_map(|v| v.map(ByteArray::from))
                    .collect();
                let defs: Vec<i16> = cells.iter().map(|v| i16::from(v.is_some())).collect();
                col.typed::<ByteArrayType>()
                    .write_batch(&values, Some(&defs), None)
                    .map_err(to_io)?;
            }
        }
        col.close().map_err(to_io)?;
        index += 1;
    }
    group.close().map_err(to_io)?;
    writer.close().map_err(to_io)?;
    Ok(())
}

/// Writes the rows as a Parquet file.
pub(super) fn write_parquet<W: io::Write + Send>(w: W, rows: &[Row]) -> io::Result<()> {
    write_columns(w, SCHEMA, |index| match index {
        3 => ParquetColumn::Double(rows.iter().map(|r| r.value).collect()),
        6 => ParquetColumn::Int64(
            rows.iter()
                .map(|r| r.n_used.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
                .collect(),
        ),
        _ => ParquetColumn::Text(
            rows.iter()
                .map(|r| -> &str {
                    match index {
                        0 => &r.sample_id,
                        1 => &r.assay,
                        2 => &r.measure,
                        4 => &r.unit,
                        5 => &r.method,
                        7 => r.qc_status.as_str(),
                        8 => &r.qc_note,
                        9 => &r.read_group,
                        10 => &r.input,
                        11 => &r.reference_build,
                        _ => &r.agemark_version,
                    }
                })
                .collect(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Provenance;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    #[test]
    fn parquet_round_trips_rows_and_nulls() {
        let prov = Provenance {
            sample_id: "S".into(),
            input: "s.bam".into(),
            reference_build: "GRCh37".into(),
        };
        let ok = Row::new(&prov, "telomere", "telseq_length_kb", 5.924, "kb", "telseq").with_n(7);
        let mut bad = Row::new(&prov, "telomere", "th_telomere_content", 1.0, "rpm", "th");
        bad.fail("no reads with 48-52% GC");
        let file = tempfile::tempfile().unwrap();
        write_parquet(&file, &[ok, bad]).unwrap();
        let reader = SerializedFileReader::new(file).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
        let rows: Vec<_> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().to_string())
            .collect();
        assert!(rows[0].contains("value: 5.924"), "{}", rows[0]);
        assert!(rows[0].contains("n_used: 7"), "{}", rows[0]);
        assert!(rows[1].contains("value: null"), "{}", rows[1]);
        assert!(rows[1].contains("qc_status: \"fail\""), "{}", rows[1]);
    }

    /// Issue 17, defect 11: a full disk under the Parquet writer reads "No space left on
    /// device", not "External: …".
    #[test]
    fn an_io_error_inside_parquet_comes_back_as_itself() {
        let full = io::Error::from_raw_os_error(28);
        let wrapped = parquet::errors::ParquetError::External(Box::new(full));
        let e = to_io(wrapped);
        assert_eq!(e.raw_os_error(), Some(28));
        assert!(!e.to_string().contains("External"), "{e}");
    }
}
