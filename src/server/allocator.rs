//! The process allocator: mimalloc, asked for plain blocks whenever plain blocks are aligned
//! enough. The `mimalloc` crate asks for an aligned block on every allocation, which takes
//! mimalloc's aligned path (an alignment check, and a slower generic path whenever the next
//! free block happens not to be aligned to the type's alignment); every mimalloc block is
//! aligned to at least eight bytes, and to sixteen from sixteen bytes up.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// Install with `#[global_allocator] static A: portico::server::allocator::Allocator = Allocator;`.
pub struct Allocator;

/// Whether a plain mimalloc block of `size` bytes already meets `align`.
#[inline(always)]
fn plain(align: usize, size: usize) -> bool {
    align <= 8 || (align <= 16 && size >= 16)
}

unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            mi::mi_malloc(layout.size()) as *mut u8
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            mi::mi_zalloc(layout.size()) as *mut u8
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr as *mut c_void);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if plain(layout.align(), new_size) {
            mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
        } else {
            mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every layout gets a block aligned as asked, zeroed when asked, and keeps its bytes
    /// through growing and shrinking, whichever of mimalloc's paths serves it.
    #[test]
    fn blocks_are_aligned_as_asked_and_keep_their_bytes() {
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 7, 8, 12, 15, 16, 17, 24, 100, 5000] {
                for new_size in [size * 3, (size / 2).max(1)] {
                    let layout = Layout::from_size_align(size, align).unwrap();
                    let kept = size.min(new_size);
                    unsafe {
                        let p = Allocator.alloc_zeroed(layout);
                        assert_eq!(p as usize % align, 0, "size {size} align {align}");
                        assert!((0..size).all(|i| *p.add(i) == 0));
                        for i in 0..size {
                            *p.add(i) = i as u8;
                        }
                        let q = Allocator.realloc(p, layout, new_size);
                        assert_eq!(q as usize % align, 0, "size {size} -> {new_size} align {align}");
                        assert!((0..kept).all(|i| *q.add(i) == i as u8));
                        Allocator.dealloc(q, Layout::from_size_align(new_size, align).unwrap());
                        let r = Allocator.alloc(layout);
                        assert_eq!(r as usize % align, 0, "size {size} align {align}");
                        Allocator.dealloc(r, layout);
                    }
                }
            }
        }
    }
}
