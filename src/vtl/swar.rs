//! Eight bytes at a time in a machine word: finding the bytes a scanner stops at (quotes,
//! backslashes, control characters, ...) and copying the plain run before them.
//!
//! A mask flags a byte by its high bit. The masks are exact up to and including their lowest
//! flagged byte; above it a bit may be set wrongly by the borrow of the subtraction, never
//! below it. So the lowest set bit of any union of these masks names the first byte that one
//! of them matches, which is all a scanner asks of them.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The bytes of `w` equal to `byte`.
#[inline(always)]
pub(crate) fn equal(w: u64, byte: u8) -> u64 {
    let x = w ^ (ONES * byte as u64);
    x.wrapping_sub(ONES) & !x & HIGH
}

/// The bytes of `w` below 0x20: control characters.
#[inline(always)]
pub(crate) fn control(w: u64) -> u64 {
    w.wrapping_sub(ONES * 0x20) & !w & HIGH
}

/// The bytes of `w` past ASCII (exact everywhere).
#[inline(always)]
pub(crate) fn past_ascii(w: u64) -> u64 {
    w & HIGH
}

/// A mask as one bit per byte (bit `k` for byte `k`), as a vector compare gives it.
#[inline(always)]
pub(crate) fn byte_bits(mask: u64) -> u32 {
    // The eight high bits, moved by one multiplication into the top byte: no two of the
    // products land on the same bit, so nothing carries.
    ((mask >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

/// Appends `bytes[i..]` to `out` up to the first byte that `mask` flags in a word (or, in the
/// last few bytes, that `stops` says), and gives that byte's position (`bytes.len()` if none).
/// Whole words are written and then cut back to the flagged byte, which is cheaper than a
/// copy call for each short run. `mask` and `stops` must agree on the bytes they stop at.
#[inline(always)]
pub(crate) fn copy_run(
    bytes: &[u8],
    mut i: usize,
    out: &mut Vec<u8>,
    mask: impl Fn(u64) -> u64,
    stops: impl Fn(u8) -> bool,
) -> usize {
    loop {
        let Some(chunk) = bytes.get(i..i + 8) else {
            // Fewer than eight bytes: one by one, cheaper than a copy call.
            while let Some(&b) = bytes.get(i) {
                if stops(b) {
                    break;
                }
                out.push(b);
                i += 1;
            }
            return i;
        };
        let chunk: [u8; 8] = chunk.try_into().unwrap_or_default();
        out.extend_from_slice(&chunk);
        let found = mask(u64::from_le_bytes(chunk));
        if found != 0 {
            let n = (found.trailing_zeros() / 8) as usize;
            out.truncate(out.len() - 8 + n);
            return i + n;
        }
        i += 8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run stops at the first flagged byte wherever it lies, in a whole word or in the
    /// last few bytes, and copies exactly what comes before it.
    #[test]
    fn runs_stop_at_the_first_flagged_byte() {
        for len in 0..30 {
            for at in 0..=len {
                for from in 0..=at {
                    let mut bytes = vec![b'a'; len];
                    if at < len {
                        bytes[at] = b'"';
                    }
                    let mut out = b"x".to_vec();
                    let end = copy_run(&bytes, from, &mut out, |w| equal(w, b'"'), |b| b == b'"');
                    assert_eq!(end, at, "len {len} from {from}");
                    assert_eq!(out[1..], bytes[from..at], "len {len} from {from}");
                }
            }
        }
    }

    #[test]
    fn masks_flag_what_they_say() {
        let w = u64::from_le_bytes(*b"a\"\x01\xc3~\\/ ");
        let lowest = |m: u64| (m != 0).then(|| m.trailing_zeros() / 8);
        assert_eq!(lowest(equal(w, b'"')), Some(1));
        assert_eq!(lowest(control(w)), Some(2));
        assert_eq!(lowest(past_ascii(w)), Some(3));
        assert_eq!(lowest(equal(w, b'\\')), Some(5));
        assert_eq!(lowest(equal(w, b'/')), Some(6));
        assert_eq!(lowest(equal(w, b'z')), None);
        assert_eq!(byte_bits(equal(w, b'"') | equal(w, b'/')), 0b0100_0010);
        assert_eq!(byte_bits(HIGH), 0xff);
    }
}
