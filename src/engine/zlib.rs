//! Node's `zlib` for Actions: raw DEFLATE, zlib and gzip framing over
//! `miniz_oxide` (pure Rust). jose 4 takes `zlib.inflateRaw` at load for
//! compressed JWEs; packages that gzip a payload use the `*Sync` forms.

use miniz_oxide::deflate::{compress_to_vec, compress_to_vec_zlib};
use miniz_oxide::inflate::{decompress_to_vec_with_limit, decompress_to_vec_zlib_with_limit};

/// Inflated output past this is refused: a few kilobytes of input can
/// otherwise expand to gigabytes inside an Action's memory.
pub const MAX_OUTPUT: usize = 16 << 20;

/// Runs `op` (`deflateRaw`, `inflateRaw`, `deflate`, `inflate`, `gzip`,
/// `gunzip`, `unzip`) on `data` at `level` (0-9, -1 for the default). The
/// error is Node's message where Node has one.
pub fn run(op: &str, data: &[u8], level: i32) -> Result<Vec<u8>, String> {
    let level = if (0..=9).contains(&level) {
        level as u8
    } else {
        6
    };
    match op {
        "deflateRaw" => Ok(compress_to_vec(data, level)),
        "deflate" => Ok(compress_to_vec_zlib(data, level)),
        "gzip" => Ok(gzip(data, level)),
        "inflateRaw" => inflate(decompress_to_vec_with_limit(data, MAX_OUTPUT)),
        "inflate" => inflate(decompress_to_vec_zlib_with_limit(data, MAX_OUTPUT)),
        "gunzip" => gunzip(data),
        // Node's unzip detects the header: gzip or zlib.
        "unzip" if data.starts_with(&[0x1f, 0x8b]) => gunzip(data),
        "unzip" => inflate(decompress_to_vec_zlib_with_limit(data, MAX_OUTPUT)),
        _ => Err(format!("zlib: unknown operation {op}")),
    }
}

fn inflate(
    result: Result<Vec<u8>, miniz_oxide::inflate::DecompressError>,
) -> Result<Vec<u8>, String> {
    result.map_err(|e| match e.status {
        miniz_oxide::inflate::TINFLStatus::HasMoreOutput => format!(
            "Cannot create a Buffer larger than {} MiB: the inflated data is too large for an Action",
            MAX_OUTPUT >> 20
        ),
        miniz_oxide::inflate::TINFLStatus::FailedCannotMakeProgress => {
            "unexpected end of file".to_owned()
        }
        _ => "invalid compressed data".to_owned(),
    })
}

fn gzip(data: &[u8], level: u8) -> Vec<u8> {
    // RFC 1952: magic, deflate, no flags, no mtime, no extra flags, Unix (as Node).
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    out.extend_from_slice(&compress_to_vec(data, level));
    out.extend_from_slice(&crc32(data).to_le_bytes());
    // ISIZE is the length modulo 2^32 by definition.
    out.extend_from_slice(&((data.len() & 0xffff_ffff) as u32).to_le_bytes());
    out
}

fn gunzip(data: &[u8]) -> Result<Vec<u8>, String> {
    let bad = || "incorrect header check".to_owned();
    if data.len() < 18 || data[0] != 0x1f || data[1] != 0x8b || data[2] != 8 {
        return Err(bad());
    }
    let flags = data[3];
    let mut at = 10;
    if flags & 0x04 != 0 {
        let len = usize::from(u16::from_le_bytes([
            *data.get(at).ok_or_else(bad)?,
            *data.get(at + 1).ok_or_else(bad)?,
        ]));
        at += 2 + len;
    }
    for flag in [0x08, 0x10] {
        if flags & flag != 0 {
            let end = data
                .get(at..)
                .and_then(|rest| rest.iter().position(|&b| b == 0))
                .ok_or_else(bad)?;
            at += end + 1;
        }
    }
    if flags & 0x02 != 0 {
        at += 2;
    }
    let body_end = data.len() - 8;
    let body = data.get(at..body_end).ok_or_else(bad)?;
    let out = inflate(decompress_to_vec_with_limit(body, MAX_OUTPUT))?;
    let trailer = &data[body_end..];
    let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if crc != crc32(&out) || size != (out.len() & 0xffff_ffff) as u32 {
        return Err("incorrect data check".to_owned());
    }
    Ok(out)
}

/// CRC-32 (IEEE), as gzip's trailer needs.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_round_trips_and_gzip_matches_known_bytes() {
        let text = b"hello hello hello hello, zlib";
        for (pack, unpack) in [
            ("deflateRaw", "inflateRaw"),
            ("deflate", "inflate"),
            ("gzip", "gunzip"),
            ("gzip", "unzip"),
            ("deflate", "unzip"),
        ] {
            let packed = run(pack, text, -1).expect(pack);
            assert_eq!(run(unpack, &packed, -1).expect(unpack), text, "{pack}");
        }
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        // `printf hi | gzip -n | xxd`: what Node's gunzip reads.
        let from_gzip = [
            0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xcb, 0xc8, 4, 0, 0xac, 0x2a, 0x93, 0xd8, 2, 0, 0,
            0,
        ];
        assert_eq!(run("gunzip", &from_gzip, -1).expect("gunzip"), b"hi");
        assert!(run("inflateRaw", b"\xff\xff\xff", -1).is_err());
        assert!(run("gunzip", b"not gzip at all, really", -1).is_err());
    }
}
