//! The latency histograms of a load run and their exchange format: HdrHistogram's V2 + DEFLATE
//! encoding (what the Java, Go and Rust HdrHistogram libraries read), base64 in JSON. `load merge`
//! adds decoded histograms, which loses nothing.
//!
//! Decoding distrusts its input: the compressed payload is inflated up to a bound, and only a
//! histogram with our own bounds (1 µs to 60 s, 3 significant digits) is accepted, so a file
//! cannot make the decoder allocate more than one of ours.

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use std::io::Read;

/// Highest latency recorded (µs); slower answers count as this.
pub const MAX_MICROS: u64 = 60_000_000;
/// Significant digits of every latency histogram.
pub const DIGITS: u8 = 3;

/// An empty latency histogram (microseconds, 1 µs to 60 s, 3 significant digits).
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, DIGITS).expect("static bounds are valid")
}

/// The V2 + DEFLATE cookie, and the V2 one inside it.
const DEFLATE_COOKIE: u32 = 0x1c84_9314;
const V2_COOKIE: u32 = 0x1c84_9313;
const V2_HEADER: usize = 40;
/// More than the V2 encoding of any of our histograms takes (17,408 counts, 9 bytes at most each).
const MAX_INFLATED: u64 = 1 << 20;

/// Encodes histograms, reusing its buffers.
#[derive(Default)]
pub struct Encoder(V2DeflateSerializer);

impl Encoder {
    /// The V2 + DEFLATE bytes of `h` (empty when the encoder fails, which writing to memory
    /// does not; [`decode`] refuses empty bytes).
    pub fn encode(&mut self, h: &Histogram<u64>) -> Vec<u8> {
        let mut bytes = Vec::new();
        match self.0.serialize(h, &mut bytes) {
            Ok(_) => bytes,
            Err(_) => Vec::new(),
        }
    }
}

/// [`Encoder::encode`] with a fresh encoder.
pub fn encode(h: &Histogram<u64>) -> Vec<u8> {
    Encoder::default().encode(h)
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn be64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// The histogram V2 + DEFLATE `bytes` encode, if it is one of ours.
pub fn decode(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    if be32(bytes, 0) != Some(DEFLATE_COOKIE) {
        return Err("not an HdrHistogram V2 + DEFLATE encoding".into());
    }
    let length = be32(bytes, 4).ok_or("the encoding is cut short")? as usize;
    let compressed = bytes.get(8..8 + length).ok_or("the encoding is cut short")?;
    let mut inflated = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut inflated)
        .map_err(|e| format!("the compressed histogram does not inflate: {e}"))?;
    if inflated.len() as u64 > MAX_INFLATED {
        return Err("the histogram is larger than any load run writes".into());
    }
    let payload = be32(&inflated, 4).ok_or("the histogram is cut short")? as usize;
    if be32(&inflated, 0) != Some(V2_COOKIE) || inflated.len() < V2_HEADER || payload > inflated.len() - V2_HEADER {
        return Err("the inflated histogram is not a V2 encoding".into());
    }
    let (digits, low, high) = (be32(&inflated, 12), be64(&inflated, 16), be64(&inflated, 24));
    if (digits, low, high) != (Some(u32::from(DIGITS)), Some(1), Some(MAX_MICROS)) {
        return Err(format!(
            "the histogram's bounds are not a load run's (1 to {MAX_MICROS} µs, {DIGITS} significant digits)"
        ));
    }
    Deserializer::new().deserialize(&mut inflated.as_slice()).map_err(|e| format!("the histogram does not decode: {e}"))
}

/// `bytes` as standard base64.
pub fn to_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The histogram a base64 text encodes.
pub fn from_base64(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| format!("not base64: {e}"))?;
    decode(&bytes)
}

/// Serializes encoded histogram bytes as base64 (serde's `serialize_with`).
pub fn serialize_base64<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_base64(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_round_trip_exactly() {
        let mut h = histogram();
        for v in [1, 7, 250, 250, 9_999, 1_234_567, MAX_MICROS] {
            h.record(v).unwrap();
        }
        let text = to_base64(&encode(&h));
        let back = from_base64(&text).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
        assert_eq!(from_base64(&to_base64(&encode(&histogram()))).unwrap().len(), 0);
    }

    #[test]
    fn foreign_or_broken_encodings_are_refused() {
        assert!(from_base64("not base64!").unwrap_err().starts_with("not base64"));
        assert!(decode(b"").unwrap_err().contains("not an HdrHistogram"));
        let good = encode(&histogram());
        assert!(decode(&good[..good.len() - 3]).unwrap_err().contains("cut short"));
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[10..last].fill(0xff);
        assert!(decode(&bad).is_err());
        let other = Histogram::<u64>::new_with_bounds(1, u64::MAX / 2, 5).unwrap();
        assert!(decode(&encode(&other)).unwrap_err().contains("bounds are not a load run's"));
        let small = Histogram::<u64>::new_with_bounds(1, 1000, 3).unwrap();
        assert!(decode(&encode(&small)).unwrap_err().contains("bounds"));
    }
}
