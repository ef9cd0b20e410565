//! The WASI preview-1 calls that Go's and AssemblyScript's runtimes (and wasi-libc) make, in minimal
//! deterministic versions: no arguments or environment, no files or preopens, stdout/stderr captured,
//! a virtual clock that `poll_oneoff` advances instead of sleeping, and seeded random bytes.
//! Anything else the plugin imports from WASI answers ENOSYS (see the engine bindings).

use crate::abi::{read, read_in, write, write_u32, write_u64, Abort, Env, HostResult};

pub const ESUCCESS: i32 = 0;
pub const EBADF: i32 = 8;
pub const EFAULT: i32 = 21;
pub const EINVAL: i32 = 28;
pub const ENOSYS: i32 = 52;
pub const ESPIPE: i32 = 70;

fn errno(r: Result<(), i32>) -> HostResult {
    Ok(match r {
        Ok(()) => ESUCCESS,
        Err(e) => e,
    })
}

fn fault<T>(r: Result<T, crate::abi::Status>) -> Result<T, i32> {
    r.map_err(|_| EFAULT)
}

fn is_stdio(fd: i32) -> bool {
    (0..=2).contains(&fd)
}

fn zero_counts<E: Env>(env: &mut E, count_ptr: i32, size_ptr: i32) -> HostResult {
    let (mem, _) = env.parts();
    errno((|| {
        fault(write_u32(mem, count_ptr as u32, 0))?;
        fault(write_u32(mem, size_ptr as u32, 0))
    })())
}

#[inline(never)]
pub fn args_sizes_get<E: Env>(env: &mut E, argc: i32, size: i32) -> HostResult {
    zero_counts(env, argc, size)
}

#[inline(never)]
pub fn args_get<E: Env>(_env: &mut E, _argv: i32, _buf: i32) -> HostResult {
    Ok(ESUCCESS)
}

#[inline(never)]
pub fn environ_sizes_get<E: Env>(env: &mut E, count: i32, size: i32) -> HostResult {
    zero_counts(env, count, size)
}

#[inline(never)]
pub fn environ_get<E: Env>(_env: &mut E, _environ: i32, _buf: i32) -> HostResult {
    Ok(ESUCCESS)
}

#[inline(never)]
pub fn clock_time_get<E: Env>(env: &mut E, id: i32, _precision: i64, ret: i32) -> HostResult {
    if !(0..=3).contains(&id) {
        return Ok(EINVAL);
    }
    let (mem, st) = env.parts();
    let now = st.now_ns();
    errno(fault(write_u64(mem, ret as u32, now)))
}

#[inline(never)]
pub fn clock_res_get<E: Env>(env: &mut E, id: i32, ret: i32) -> HostResult {
    if !(0..=3).contains(&id) {
        return Ok(EINVAL);
    }
    let (mem, _) = env.parts();
    errno(fault(write_u64(mem, ret as u32, 1_000)))
}

/// Writes to stdout (1) and stderr (2) are kept (bounded) in the host state; other fds are EBADF.
#[inline(never)]
pub fn fd_write<E: Env>(
    env: &mut E,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    nwritten: i32,
) -> HostResult {
    if fd != 1 && fd != 2 {
        return Ok(EBADF);
    }
    let (mem, st) = env.parts();
    errno((|| {
        let table = fault(read(mem, iovs as u32, (iovs_len as u32).wrapping_mul(8)))?;
        if (iovs_len as u32) > 1 << 20 {
            return Err(EINVAL);
        }
        let mut total: u32 = 0;
        for iov in table.chunks_exact(8) {
            let ptr = u32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]);
            let len = u32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]);
            let data = fault(read_in(mem, st, ptr, len))?;
            st.write_stdio(fd as u32, data);
            total = total.wrapping_add(len);
        }
        fault(write_u32(mem, nwritten as u32, total))
    })())
}

#[inline(never)]
pub fn fd_read<E: Env>(env: &mut E, fd: i32, _iovs: i32, _iovs_len: i32, nread: i32) -> HostResult {
    if fd != 0 {
        return Ok(EBADF);
    }
    let (mem, _) = env.parts();
    errno(fault(write_u32(mem, nread as u32, 0)))
}

#[inline(never)]
pub fn fd_close<E: Env>(_env: &mut E, fd: i32) -> HostResult {
    Ok(if is_stdio(fd) { ESUCCESS } else { EBADF })
}

#[inline(never)]
pub fn fd_seek<E: Env>(_env: &mut E, fd: i32, _offset: i64, _whence: i32, _ret: i32) -> HostResult {
    Ok(if is_stdio(fd) { ESPIPE } else { EBADF })
}

/// stdio are character devices with every right; there is nothing else.
#[inline(never)]
pub fn fd_fdstat_get<E: Env>(env: &mut E, fd: i32, ret: i32) -> HostResult {
    if !is_stdio(fd) {
        return Ok(EBADF);
    }
    let mut stat = [0u8; 24];
    stat[0] = 2; // CHARACTER_DEVICE
    stat[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    stat[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    let (mem, _) = env.parts();
    errno(fault(write(mem, ret as u32, &stat)))
}

#[inline(never)]
pub fn fd_fdstat_set_flags<E: Env>(_env: &mut E, fd: i32, _flags: i32) -> HostResult {
    Ok(if is_stdio(fd) { ESUCCESS } else { EBADF })
}

/// No preopened directories: the first probe (fd 3) ends the runtime's search.
#[inline(never)]
pub fn fd_prestat_get<E: Env>(_env: &mut E, _fd: i32, _ret: i32) -> HostResult {
    Ok(EBADF)
}

#[inline(never)]
pub fn fd_prestat_dir_name<E: Env>(_env: &mut E, _fd: i32, _ptr: i32, _len: i32) -> HostResult {
    Ok(EBADF)
}

#[inline(never)]
pub fn random_get<E: Env>(env: &mut E, buf: i32, len: i32) -> HostResult {
    let (mem, st) = env.parts();
    errno((|| {
        fault(read(mem, buf as u32, len as u32))?;
        let start = buf as u32 as usize;
        for chunk in mem[start..start + len as u32 as usize].chunks_mut(8) {
            let r = st.next_random().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        Ok(())
    })())
}

#[inline(never)]
pub fn sched_yield<E: Env>(_env: &mut E) -> HostResult {
    Ok(ESUCCESS)
}

/// Every subscription fires at once; clock subscriptions advance the virtual clock past their
/// deadline instead of sleeping, so a runtime that waits never blocks the host.
#[inline(never)]
pub fn poll_oneoff<E: Env>(
    env: &mut E,
    input: i32,
    out: i32,
    nsubs: i32,
    nevents: i32,
) -> HostResult {
    if nsubs <= 0 {
        return Ok(EINVAL);
    }
    let (mem, st) = env.parts();
    errno((|| {
        let n = nsubs as u32;
        let subs = fault(read(mem, input as u32, n.checked_mul(48).ok_or(EFAULT)?))?.to_vec();
        fault(read(mem, out as u32, n.checked_mul(32).ok_or(EFAULT)?))?;
        for (i, sub) in subs.chunks_exact(48).enumerate() {
            let userdata = &sub[0..8];
            let tag = sub[8];
            if tag == 0 {
                let timeout = u64::from_le_bytes(sub[24..32].try_into().expect("8 bytes"));
                let absolute = u16::from_le_bytes([sub[40], sub[41]]) & 1 == 1;
                st.clock_ns = if absolute {
                    st.clock_ns.max(timeout)
                } else {
                    st.clock_ns.saturating_add(timeout)
                };
            }
            let mut ev = [0u8; 32];
            ev[0..8].copy_from_slice(userdata);
            ev[10] = tag;
            fault(write(mem, out as u32 + 32 * i as u32, &ev))?;
        }
        fault(write_u32(mem, nevents as u32, n))
    })())
}

#[inline(never)]
pub fn proc_exit<E: Env>(_env: &mut E, code: i32) -> Result<(), Abort> {
    Err(Abort::Exit(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::tests::FakeEnv;

    #[test]
    fn fd_write_captures_stdio_and_checks_pointers() {
        let mut e = FakeEnv::new();
        e.put(100, b"hello ");
        e.put(200, b"world");
        // two iovecs at 300
        let mut iov = Vec::new();
        for (p, l) in [(100u32, 6u32), (200, 5)] {
            iov.extend_from_slice(&p.to_le_bytes());
            iov.extend_from_slice(&l.to_le_bytes());
        }
        e.put(300, &iov);
        assert_eq!(fd_write(&mut e, 1, 300, 2, 400), Ok(0));
        assert_eq!(e.st.stdout, b"hello world");
        assert_eq!(e.u32_at(400), 11);
        assert_eq!(fd_write(&mut e, 2, 300, 1, 400), Ok(0));
        assert_eq!(e.st.stderr, b"hello ");
        assert_eq!(fd_write(&mut e, 5, 300, 1, 400), Ok(EBADF));
        assert_eq!(fd_write(&mut e, 1, 70000, 1, 400), Ok(EFAULT));
        assert_eq!(fd_write(&mut e, 1, 300, -1, 400), Ok(EFAULT));
        assert_eq!(fd_write(&mut e, 1, 300, 2, 70000), Ok(EFAULT));
        e.put(500, &[0, 0, 1, 0, 0xff, 0xff, 0, 0]);
        assert_eq!(fd_write(&mut e, 1, 500, 1, 400), Ok(EFAULT));
    }

    #[test]
    fn clock_random_and_counts_are_deterministic() {
        let mut a = FakeEnv::new();
        let mut b = FakeEnv::new();
        for e in [&mut a, &mut b] {
            assert_eq!(clock_time_get(e, 1, 0, 8), Ok(0));
            assert_eq!(random_get(e, 100, 13), Ok(0));
            assert_eq!(args_sizes_get(e, 16, 20), Ok(0));
            assert_eq!(environ_sizes_get(e, 24, 28), Ok(0));
        }
        assert_eq!(a.mem, b.mem);
        assert_ne!(&a.mem[100..113], &[0u8; 13]);
        assert_eq!(clock_time_get(&mut a, 9, 0, 8), Ok(EINVAL));
        assert_eq!(clock_time_get(&mut a, 0, 0, 70000), Ok(EFAULT));
        assert_eq!(random_get(&mut a, 65530, 10), Ok(EFAULT));
        assert_eq!(random_get(&mut a, 0, -1), Ok(EFAULT));
        assert_eq!(args_sizes_get(&mut a, 70000, 0), Ok(EFAULT));
        assert_eq!(clock_res_get(&mut a, 0, 8), Ok(0));
    }

    #[test]
    fn poll_oneoff_advances_virtual_time() {
        let mut e = FakeEnv::new();
        let mut sub = [0u8; 48];
        sub[0..8].copy_from_slice(&42u64.to_le_bytes());
        sub[8] = 0;
        sub[24..32].copy_from_slice(&5_000_000_000u64.to_le_bytes());
        e.put(100, &sub);
        let before = e.st.clock_ns;
        assert_eq!(poll_oneoff(&mut e, 100, 200, 1, 300), Ok(0));
        assert_eq!(e.st.clock_ns, before + 5_000_000_000);
        assert_eq!(e.u32_at(300), 1);
        assert_eq!(u64::from_le_bytes(e.mem[200..208].try_into().unwrap()), 42);
        assert_eq!(poll_oneoff(&mut e, 100, 200, 0, 300), Ok(EINVAL));
        assert_eq!(poll_oneoff(&mut e, 65500, 200, 1, 300), Ok(EFAULT));
        assert_eq!(poll_oneoff(&mut e, 100, 65530, 1, 300), Ok(EFAULT));
        assert_eq!(poll_oneoff(&mut e, 100, 200, i32::MAX, 300), Ok(EFAULT));
    }

    #[test]
    fn files_do_not_exist() {
        let mut e = FakeEnv::new();
        assert_eq!(fd_fdstat_get(&mut e, 1, 8), Ok(0));
        assert_eq!(e.mem[8], 2);
        assert_eq!(fd_fdstat_get(&mut e, 3, 8), Ok(EBADF));
        assert_eq!(fd_fdstat_get(&mut e, 1, 65530), Ok(EFAULT));
        assert_eq!(fd_prestat_get(&mut e, 3, 8), Ok(EBADF));
        assert_eq!(fd_prestat_dir_name(&mut e, 3, 8, 4), Ok(EBADF));
        assert_eq!(fd_close(&mut e, 1), Ok(0));
        assert_eq!(fd_close(&mut e, 9), Ok(EBADF));
        assert_eq!(fd_seek(&mut e, 1, 0, 0, 8), Ok(ESPIPE));
        assert_eq!(fd_fdstat_set_flags(&mut e, 1, 4), Ok(0));
        assert_eq!(fd_read(&mut e, 0, 0, 0, 8), Ok(0));
        assert_eq!(fd_read(&mut e, 4, 0, 0, 8), Ok(EBADF));
        assert_eq!(sched_yield(&mut e), Ok(0));
        assert_eq!(proc_exit(&mut e, 3), Err(Abort::Exit(3)));
    }
}
