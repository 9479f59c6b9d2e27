//! The ids API Gateway gives every request: `requestId` (a UUID), `extendedRequestId`, and the
//! X-Ray trace header sent to integrations.
//!
//! They name requests; they guard nothing. So their bits come from a small generator kept by
//! each thread (wyrand), seeded once per thread from the operating system's randomness, not
//! from a cryptographic generator at every request: three ids per request cost less than one
//! draw of the latter.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

/// A thread's first state: 64 bits of a random (OS-seeded) UUID.
fn seed() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

/// The next 64 bits of this thread's generator (wyrand).
fn next_u64() -> u64 {
    STATE.with(|state| {
        let s = state.get().wrapping_add(0xa076_1d64_78bd_642f);
        state.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
        (t >> 64) as u64 ^ t as u64
    })
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A request id: a random (version 4) UUID, lowercase and hyphenated, as AWS's.
pub fn request_id() -> String {
    // Where each byte's two digits go in `8-4-4-4-12`.
    const AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
    let mut bytes = (u128::from(next_u64()) << 64 | u128::from(next_u64())).to_be_bytes();
    // The version (4) in the high half of byte 6, the variant (`10`) in the top of byte 8.
    bytes[6] = bytes[6] & 0x0f | 0x40;
    bytes[8] = bytes[8] & 0x3f | 0x80;
    let mut out = *b"00000000-0000-0000-0000-000000000000";
    for (b, at) in bytes.into_iter().zip(AT) {
        out[at] = HEX[usize::from(b >> 4)];
        out[at + 1] = HEX[usize::from(b & 0xf)];
    }
    ascii(&out)
}

/// An id shaped like AWS's `extendedRequestId` (`OE1AoH3hoAMF_bA=`): 11 random bytes in
/// URL-safe base64, written directly (the general encoder costs more than the id).
pub fn extended_request_id() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // 88 bits: 60 for the first ten characters, 28 for the last five (the last character's
    // two low bits zero, as base64 pads eleven bytes), then the padding.
    let (first, rest) = (next_u64() >> 4, next_u64() >> 36 << 2);
    let mut out = [b'='; 16];
    for i in 0..10 {
        out[i] = ALPHABET[(first >> (54 - 6 * i)) as usize & 63];
    }
    for i in 0..5 {
        out[10 + i] = ALPHABET[(rest >> (24 - 6 * i)) as usize & 63];
    }
    ascii(&out)
}

/// X-Ray's trace header: kept when the client sent a complete one, given a new `Parent`
/// when it sent only `Root`, made up otherwise.
pub fn trace_id(incoming: Option<&str>, epoch_secs: u32) -> String {
    match incoming {
        Some(v) if v.contains("Root=") && v.contains("Parent=") => v.to_string(),
        Some(v) if v.contains("Root=") => {
            let root = v.split(';').find(|p| p.trim_start().starts_with("Root=")).unwrap_or(v).trim();
            let mut rest = *b";Parent=0000000000000000;Sampled=0";
            hex_into(&mut rest[8..24], next_u64());
            let mut out = String::with_capacity(root.len() + rest.len());
            out.push_str(root);
            out.push_str(std::str::from_utf8(&rest).unwrap_or_default());
            out
        }
        _ => {
            let mut out = *b"Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0";
            hex_into(&mut out[7..15], u64::from(epoch_secs));
            hex_into(&mut out[16..32], next_u64());
            hex_into(&mut out[32..40], next_u64());
            hex_into(&mut out[48..64], next_u64());
            ascii(&out)
        }
    }
}

/// Fills `digits` with the low hex digits of `n`, most significant first.
fn hex_into(digits: &mut [u8], mut n: u64) {
    for d in digits.iter_mut().rev() {
        *d = HEX[(n & 0xf) as usize];
        n >>= 4;
    }
}

/// Bytes this module wrote from its ASCII tables, as a `String`.
fn ascii(bytes: &[u8]) -> String {
    std::str::from_utf8(bytes).map(str::to_string).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_version_4_uuids() {
        let mut seen = std::collections::HashSet::new();
        let (mut any, mut all) = (0u128, u128::MAX);
        for _ in 0..2000 {
            let id = request_id();
            let parsed = uuid::Uuid::parse_str(&id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122, "{id}");
            assert_eq!(parsed.hyphenated().to_string(), id, "lowercase and hyphenated");
            let bits = parsed.as_u128();
            (any, all) = (any | bits, all & bits);
            assert!(seen.insert(id));
        }
        // Every one of the 122 random bits varies; only the version and variant are fixed.
        let fixed: u128 = 0xf << 76 | 0x3 << 62;
        assert_eq!(any | fixed, u128::MAX);
        assert_eq!(all & !fixed, 0);
    }

    #[test]
    fn extended_request_ids_are_url_safe_base64_of_eleven_bytes() {
        use base64::Engine;
        let (mut any, mut all) = ([0u8; 11], [0xffu8; 11]);
        for _ in 0..500 {
            let id = extended_request_id();
            assert_eq!(id.len(), 16, "{id}");
            let bytes = base64::engine::general_purpose::URL_SAFE.decode(&id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(bytes.len(), 11, "{id}");
            assert_eq!(base64::engine::general_purpose::URL_SAFE.encode(&bytes), id);
            for (i, b) in bytes.iter().enumerate() {
                (any[i], all[i]) = (any[i] | b, all[i] & b);
            }
        }
        assert_eq!((any, all), ([0xff; 11], [0; 11]), "no bit of the eleven bytes is fixed");
    }

    #[test]
    fn threads_draw_different_ids() {
        let other = std::thread::spawn(|| (0..100).map(|_| request_id()).collect::<Vec<_>>()).join().unwrap();
        let here: std::collections::HashSet<String> = (0..100).map(|_| request_id()).collect();
        assert!(other.iter().all(|id| !here.contains(id)));
    }

    #[test]
    fn trace_ids_follow_x_ray() {
        // 2026-01-01T00:00:00Z is 0x69559780 seconds after the epoch.
        let new = trace_id(None, 0x6955_9780);
        let parts: Vec<&str> = new.split(';').collect();
        assert_eq!(parts.len(), 3, "{new}");
        let root = parts[0].strip_prefix("Root=1-69559780-").unwrap_or_else(|| panic!("{new}"));
        assert!(root.len() == 24 && root.bytes().all(|b| b.is_ascii_hexdigit()), "{new}");
        let parent = parts[1].strip_prefix("Parent=").unwrap_or_else(|| panic!("{new}"));
        assert!(parent.len() == 16 && parent.bytes().all(|b| b.is_ascii_hexdigit()), "{new}");
        assert_eq!(parts[2], "Sampled=0");
        assert_ne!(trace_id(None, 0x6955_9780), new, "each trace is new");
        // A client's complete header is kept; a root alone gets a parent.
        let full = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        assert_eq!(trace_id(Some(full), 0), full);
        let completed = trace_id(Some("Root=1-5759e988-bd862e3fe1be46a994272793"), 0);
        assert!(completed.starts_with("Root=1-5759e988-bd862e3fe1be46a994272793;Parent="), "{completed}");
        assert!(completed.ends_with(";Sampled=0"), "{completed}");
        assert_eq!(completed.len(), "Root=1-5759e988-bd862e3fe1be46a994272793".len() + 34, "{completed}");
    }
}
