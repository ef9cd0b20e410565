//! Callgrind's client requests, the few this runner uses: a program run under
//! `valgrind --tool=callgrind` asks callgrind to start counting, to zero its counters and to write a
//! profile with a label, around exactly the work it wants counted. Natively they cost a few
//! instructions and do nothing.
//!
//! The requests are valgrind's "special instruction sequence" (valgrind.h's
//! `VALGRIND_DO_CLIENT_REQUEST_EXPR`): four rotations of one register by 3, 13, 61 and 51 bits (a
//! no-op) followed by a marker instruction; valgrind recognises the sequence, reads the request from
//! an array of six words and writes its answer to a register. Written here for x86_64 and aarch64;
//! elsewhere [`on_valgrind`] is 0 and every request does nothing.

/// valgrind.h: `VG_USERREQ_TOOL_BASE('C','T')`, the base of callgrind's requests.
const CALLGRIND: usize = (b'C' as usize) << 24 | (b'T' as usize) << 16;
const ZERO_STATS: usize = CALLGRIND + 1;
const DUMP_STATS_AT: usize = CALLGRIND + 3;
const START_INSTRUMENTATION: usize = CALLGRIND + 4;
const STOP_INSTRUMENTATION: usize = CALLGRIND + 5;
/// valgrind.h: `VG_USERREQ__RUNNING_ON_VALGRIND`.
const RUNNING_ON_VALGRIND: usize = 0x1001;

#[cfg(target_arch = "x86_64")]
fn request(default: usize, args: &[usize; 6]) -> usize {
    let mut result = default;
    // SAFETY: natively the rotations cancel out and `xchg rbx, rbx` does nothing: the sequence only
    // clobbers the flags. Under valgrind, it reads `args` and writes rdx.
    unsafe {
        core::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") result,
            in("rax") args.as_ptr(),
            options(nostack)
        );
    }
    result
}

#[cfg(target_arch = "aarch64")]
fn request(default: usize, args: &[usize; 6]) -> usize {
    let mut result = default;
    // SAFETY: as on x86_64: natively a no-op (`orr x10, x10, x10`), under valgrind it reads `args`
    // through x4 and answers in x3.
    unsafe {
        core::arch::asm!(
            "ror x12, x12, #3",
            "ror x12, x12, #13",
            "ror x12, x12, #51",
            "ror x12, x12, #61",
            "orr x10, x10, x10",
            inout("x3") result,
            in("x4") args.as_ptr(),
            options(nostack)
        );
    }
    result
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn request(default: usize, _args: &[usize; 6]) -> usize {
    default
}

fn send(code: usize, arg: usize) -> usize {
    std::hint::black_box(request(0, &[code, arg, 0, 0, 0, 0]))
}

/// How many valgrinds this process runs under: 0 natively (or on an architecture without requests).
pub fn on_valgrind() -> usize {
    send(RUNNING_ON_VALGRIND, 0)
}

/// Turns instrumentation on (with `--instr-atstart=no`, nothing is counted before this).
pub fn start_instrumentation() {
    send(START_INSTRUMENTATION, 0);
}

pub fn stop_instrumentation() {
    send(STOP_INSTRUMENTATION, 0);
}

/// Sets every counter to zero: the next dump counts from here.
pub fn zero_stats() {
    send(ZERO_STATS, 0);
}

/// Writes a profile of what was counted since the last zero or dump; its `desc: Trigger:` line says
/// `Client Request: <label>`.
pub fn dump_stats_at(label: &str) {
    let c = std::ffi::CString::new(label.replace('\0', " ")).expect("no NUL left");
    send(DUMP_STATS_AT, c.as_ptr() as usize);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natively_the_requests_do_nothing() {
        // Not under valgrind (cargo test is not run under it): the default comes back, and the
        // sequence leaves the program intact.
        assert_eq!(on_valgrind(), 0);
        start_instrumentation();
        zero_stats();
        dump_stats_at("nothing");
        stop_instrumentation();
        assert_eq!(on_valgrind(), 0);
    }
}
