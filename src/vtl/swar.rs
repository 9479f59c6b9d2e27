//! Eight bytes at a time in a machine word, or sixteen in an SSE2 register: finding the bytes
//! a scanner stops at (quotes, backslashes, control characters, ...), so that the plain run
//! before them is copied whole.
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

/// Sixteen bytes' flags, one bit per byte (bit `k` for byte `k`): those equal to one of
/// `equal`, and the control characters or the bytes past ASCII when asked. Exact everywhere
/// with SSE2 (always there on x86_64); elsewhere two words, exact up to the lowest flag.
#[inline(always)]
pub(crate) fn flags16<const N: usize>(chunk: &[u8; 16], equal: [u8; N], control: bool, past_ascii: bool) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86_64, and the load reads the sixteen bytes of `chunk`.
        unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast());
            let mut flags = _mm_setzero_si128();
            for byte in equal {
                flags = _mm_or_si128(flags, _mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8)));
            }
            if control {
                flags = _mm_or_si128(flags, _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v));
            }
            if past_ascii {
                flags = _mm_or_si128(flags, v);
            }
            _mm_movemask_epi8(flags) as u32
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        flags16_words(chunk, equal, control, past_ascii)
    }
}

/// [`flags16`] in two words.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn flags16_words<const N: usize>(chunk: &[u8; 16], equal_to: [u8; N], control_too: bool, past_ascii_too: bool) -> u32 {
    let word = |half: usize| {
        let w = u64::from_le_bytes(chunk[8 * half..8 * half + 8].try_into().unwrap_or_default());
        let mut m = equal_to.iter().fold(0, |m, &b| m | equal(w, b));
        if control_too {
            m |= control(w);
        }
        if past_ascii_too {
            m |= past_ascii(w);
        }
        byte_bits(m)
    };
    match word(0) {
        0 => word(1) << 8,
        lo => lo,
    }
}

/// How many bytes [`append_short`] copies at once.
pub(crate) const SHORT: usize = 32;
const _: () = assert!(SHORT == 2 * std::mem::size_of::<u128>(), "append copies two 16-byte words");

/// Appends the `len` bytes at `from` to `out` as one copy of [`SHORT`] bytes.
///
/// # Safety
/// `SHORT` bytes must be readable from `from`, `len` must be at most `SHORT`, and the first
/// `len` bytes must be UTF-8.
#[inline(always)]
pub(crate) unsafe fn append_short(out: &mut String, from: *const u8, len: usize) {
    debug_assert!(len <= SHORT);
    out.reserve(SHORT);
    // SAFETY: `SHORT` bytes are readable from `from` (the caller's promise) and writable at
    // the end of `out` (reserved); the length then covers only the `len` UTF-8 bytes.
    unsafe {
        let v = out.as_mut_vec();
        let at = v.len();
        // Two 16-byte words loaded and stored, not a copy of `SHORT` bytes: the compiler
        // would merge that with a `push_str` beside it into one call to copy memory.
        let from = from.cast::<u128>();
        let to = v.as_mut_ptr().add(at).cast::<u128>();
        let (a, b) = (from.read_unaligned(), from.add(1).read_unaligned());
        to.write_unaligned(a);
        to.add(1).write_unaligned(b);
        v.set_len(at + len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every short part of a padded text is appended whole, and only it.
    #[test]
    fn short_parts_are_appended_whole() {
        let text = format!("é{}{}", "abcdefghij".repeat(5), "\0".repeat(SHORT));
        for start in [0, 2, 5, 40] {
            for len in [0, 1, 7, 16, 31, 32] {
                if let Some(part) = text.get(start..start + len) {
                    let mut out = String::from("x");
                    // SAFETY: `SHORT` bytes follow every start tried, and `part` is a `str`.
                    unsafe { append_short(&mut out, text.as_ptr().add(start), len) };
                    assert_eq!(out, format!("x{part}"), "{start}+{len}");
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
        let chunk: [u8; 16] = *b"ab\"\x01\xc3~\\/ 0123456";
        for flags in [flags16::<2>, flags16_words::<2>] {
            let lowest = |f: u32| (f != 0).then(|| f.trailing_zeros());
            assert_eq!(lowest(flags(&chunk, [b'"', b'/'], false, false)), Some(2));
            assert_eq!(lowest(flags(&chunk, [b'/', b'6'], true, false)), Some(3));
            assert_eq!(lowest(flags(&chunk, [b'/', b'6'], false, true)), Some(4));
            assert_eq!(lowest(flags(&chunk, [b'/', b'6'], false, false)), Some(7));
            assert_eq!(lowest(flags(&chunk, [b'6', b'z'], false, false)), Some(15));
            assert_eq!(lowest(flags(&chunk, [b'z', b'y'], false, false)), None);
        }
    }
}
