//! The `natc` binary's allocator: the system allocator, with transparent huge pages asked
//! for every large block (2 MiB and up: the hash tables of the checks and of numbering, the
//! rule lists, the output text).
//!
//! Why: a 100k-mapping build reads those blocks, tens of MiB, in hash order. With 4 KiB
//! pages nearly every look-up also missed the TLB, so each mapping cost more at 100k than
//! at 10k: 100k/10k build times of 11-12x where the work is 10x. Asking for huge pages
//! brought them to 9.5-10.5x and a 100k build 10-20% down (BENCHMARKS.md, session 23).
//! Debian's kernels (and this machine's) run THP in `madvise` mode: a block gets huge
//! pages only if asked. Small blocks are not asked for: glibc's heap grows in small steps
//! that rarely span an aligned 2 MiB, and advising it measured no gain.
//!
//! The advice is only advice: where THP is off or absent, `madvise` fails or does nothing,
//! and the allocation is the system allocator's either way.

use std::alloc::{GlobalAlloc, Layout, System};

/// The size of an x86-64 huge page: no smaller block can hold one.
const HUGE_PAGE: usize = 2 << 20;

pub struct HugePagesForLargeBlocks;

/// Ask for huge pages for the block at `ptr` of `size` bytes, if it is large.
fn advise(ptr: *mut u8, size: usize) {
    if ptr.is_null() || size < HUGE_PAGE {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        // madvise wants a page-aligned start: the block's first page (glibc puts its
        // chunk header in front of the block, in the same mapping).
        let start = ptr as usize & !4095;
        let end = ptr as usize + size;
        // SAFETY: madvise(MADV_HUGEPAGE) changes no memory contents and no access rights;
        // the range is this block's own (plus the start of its first page), mapped.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
    }
}

// SAFETY: every call is the system allocator's, with the same arguments; `advise` only
// adds advice about the block it returned.
unsafe impl GlobalAlloc for HugePagesForLargeBlocks {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        let ptr = unsafe { System.alloc(layout) };
        advise(ptr, layout.size());
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        advise(ptr, layout.size());
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let ptr = unsafe { System.realloc(ptr, layout, new_size) };
        advise(ptr, new_size);
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The VmFlags of the mapping that holds `addr`, from /proc/self/smaps.
    fn flags_at(addr: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps");
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_whitespace().next().unwrap_or("");
            if let Some((lo, hi)) = range.split_once('-')
                && let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = lo <= addr && addr < hi;
            } else if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
                return flags.to_string();
            }
        }
        panic!("no mapping holds {addr:#x}");
    }

    /// A large block's mapping is marked for huge pages (`hg`); a small block is left alone.
    #[test]
    fn large_blocks_ask_for_huge_pages() {
        let a = HugePagesForLargeBlocks;
        let large = Layout::from_size_align(8 * HUGE_PAGE, 8).unwrap();
        // SAFETY: a non-zero layout, freed below with the same layout.
        let block = unsafe { a.alloc(large) };
        assert!(!block.is_null());
        let middle = block as usize + 4 * HUGE_PAGE;
        assert!(flags_at(middle).split_whitespace().any(|f| f == "hg"), "{}", flags_at(middle));
        // SAFETY: allocated above with this layout.
        unsafe { a.dealloc(block, large) };
    }
}
