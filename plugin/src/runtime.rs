// The no_std runtime of a crm:consent guest; `include!`d by plugin/src/guest.rs
// and tests/fixtures/hostile-plugin/src/guest.rs.
//
// A std guest on wasm32-wasip2 imports 13 WASI interfaces; the contract says
// the plugin imports nothing. So the crate is no_std and brings the three
// things std would: an allocator, a panic handler and `cabi_realloc`.

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// A panic can only be a bug; trapping makes the host fail closed
/// (`plugin-fault`).
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// The canonical ABI's allocator for arguments the host passes in. On
/// wasm32-wasip2, wit-bindgen leaves this to wasi-libc, which a no_std guest
/// does not link.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(
    old_ptr: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    use alloc::alloc::{Layout, alloc, realloc};
    let ptr = unsafe {
        if old_len == 0 {
            if new_len == 0 {
                return align as *mut u8;
            }
            alloc(Layout::from_size_align_unchecked(new_len, align))
        } else {
            realloc(
                old_ptr,
                Layout::from_size_align_unchecked(old_len, align),
                new_len,
            )
        }
    };
    if ptr.is_null() {
        core::arch::wasm32::unreachable();
    }
    ptr
}

// core lowers slice and string comparisons to `memcmp`, which wasm32-wasip2
// expects from wasi-libc. Link the target's self-contained libc.a for just
// the mem* functions; nothing in it that would import WASI is referenced.
#[link(name = "c")]
unsafe extern "C" {}
