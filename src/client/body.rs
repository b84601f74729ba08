//! Bounded reading of answer bodies (`--max-body`): parsing the limit, growing a buffer
//! without copying a runaway body twice, reading a reqwest answer chunk by chunk.

/// Parses `--max-body`: a byte count with an optional unit, `4096`, `512B`, `64KiB`, `1MiB`,
/// `1GiB` (powers of 1024) or `64kB`, `1MB`, `1GB` (powers of 1000); above 0.
pub fn parse_max_body(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(format!("'{text}' is not a size such as 1MiB, 64KiB or 4096 (bytes)")),
    };
    let count: u64 = digits.parse().map_err(|_| format!("'{text}' is not a size such as 1MiB, 64KiB or 4096"))?;
    match count.checked_mul(multiplier).and_then(|n| usize::try_from(n).ok()) {
        Some(0) => Err("the body limit must be above 0 bytes, e.g. 1MiB".into()),
        Some(n) if n <= 1 << 30 => Ok(n),
        _ => Err(format!("'{text}' is above the largest body limit, 1GiB")),
    }
}

/// A body buffer grows by doubling up to this size, then takes room for the whole limit at
/// once: a runaway body costs `--max-body` once, not the copies of every doubling.
const GROW_BY_DOUBLING: usize = 64 * 1024;

/// Appends `chunk` to `body`, which is never to grow past `max`.
pub fn append_bounded(body: &mut Vec<u8>, chunk: &[u8], max: usize) {
    let needed = body.len() + chunk.len();
    if needed > body.capacity() && needed > GROW_BY_DOUBLING {
        body.reserve_exact(max - body.len());
    }
    body.extend_from_slice(chunk);
}

/// Reads `response`'s body chunk by chunk, at most `max` bytes of it; `true` with it when
/// there was more (the rest is never read: dropping the response closes its connection).
pub async fn read_bounded(response: &mut reqwest::Response, max: usize) -> reqwest::Result<(Vec<u8>, bool)> {
    let declared = response.content_length().and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
    let mut body = Vec::with_capacity(declared.min(max).min(GROW_BY_DOUBLING));
    while let Some(chunk) = response.chunk().await? {
        let room = max - body.len();
        if chunk.len() > room {
            append_bounded(&mut body, &chunk[..room], max);
            return Ok((body, true));
        }
        append_bounded(&mut body, &chunk, max);
    }
    Ok((body, false))
}
