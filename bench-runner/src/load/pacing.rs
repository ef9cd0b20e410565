//! Waiting for the open loop's send times and bounding exchanges in time, both without a timer-wheel
//! operation per request.
//!
//! [`Pacer`]: tokio's timers have 1 ms granularity, far too coarse for a schedule kept to within
//! 10 µs. A timerfd (nanosecond resolution) wakes the connection a small margin before the send time,
//! and the rest is spent yielding to the other connections. The margin adapts so that about 9 in 10
//! wake-ups come early enough: little CPU is spent spinning when wake-ups are prompt, and rare long
//! delays (the thread preempted by another process) do not make it spin all the time, which would
//! only get it preempted more.
//!
//! [`Watchdog`]: one long-lived timer per connection whose deadline is moved forward only when it
//! fires, instead of a timer armed and cancelled for every request.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

const MIN_MARGIN: Duration = Duration::from_micros(20);
const INITIAL_MARGIN: Duration = Duration::from_micros(100);
const MAX_MARGIN: Duration = Duration::from_micros(500);
/// Longest single sleep, so that a stop request (Ctrl-C, hard time bound) is seen promptly.
const MAX_NAP: Duration = Duration::from_millis(50);
/// Wake-ups per adaptation window of the margin.
const WINDOW: u32 = 32;

pub(super) struct Pacer {
    /// None where no timerfd could be created: tokio's timer is used (coarser, more spinning).
    fd: Option<AsyncFd<OwnedFd>>,
    margin: Duration,
    /// In the current window: wake-ups later than the margin, and within half of it.
    misses: u32,
    easy: u32,
    waits: u32,
}

fn timerfd() -> Option<AsyncFd<OwnedFd>> {
    // SAFETY: plain system call; the descriptor is owned below.
    let raw = unsafe {
        libc::timerfd_create(
            libc::CLOCK_MONOTONIC,
            libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
        )
    };
    if raw < 0 {
        return None;
    }
    // SAFETY: `raw` is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: the OwnedFd moves into the AsyncFd and stays open, unchanged, for its whole life.
    unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }.ok()
}

impl Pacer {
    pub(super) fn new() -> Pacer {
        Pacer {
            fd: timerfd(),
            margin: INITIAL_MARGIN,
            misses: 0,
            easy: 0,
            waits: 0,
        }
    }

    /// Waits until `t`. Returns false, early, once `stop` is set.
    pub(super) async fn wait_until(&mut self, t: Instant, stop: &Cell<bool>) -> bool {
        loop {
            if stop.get() {
                return false;
            }
            let now = Instant::now();
            if now >= t {
                return true;
            }
            let left = t - now;
            if left > self.margin {
                let nap = (left - self.margin).min(MAX_NAP);
                self.nap(nap).await;
                self.learn(Instant::now().saturating_duration_since(now + nap));
            } else {
                tokio::task::yield_now().await;
            }
        }
    }

    async fn nap(&self, d: Duration) {
        let Some(fd) = &self.fd else {
            tokio::time::sleep(d).await;
            return;
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: d.as_secs() as libc::time_t,
                // at least 1 ns: an all-zero it_value would disarm the timer
                tv_nsec: (d.subsec_nanos().max(1)) as libc::c_long,
            },
        };
        // SAFETY: the descriptor is a timerfd we own; `spec` lives across the call.
        if unsafe { libc::timerfd_settime(fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) } != 0 {
            tokio::time::sleep(d).await;
            return;
        }
        loop {
            let Ok(mut guard) = fd.readable().await else {
                return;
            };
            let read = guard.try_io(|fd| {
                let mut expirations = 0u64;
                // SAFETY: reads 8 bytes into a u64 we own.
                let n =
                    unsafe { libc::read(fd.as_raw_fd(), (&mut expirations as *mut u64).cast(), 8) };
                if n == 8 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
            match read {
                Ok(_) => return, // expired (or an error other than "not yet": do not hang)
                Err(_would_block) => continue,
            }
        }
    }

    /// Adapts the margin once per window of wake-ups: doubled when more than 1 in 8 came later
    /// than it, shrunk by a quarter when all came within half of it.
    fn learn(&mut self, overshoot: Duration) {
        if overshoot > self.margin {
            self.misses += 1;
        } else if overshoot * 2 <= self.margin {
            self.easy += 1;
        }
        self.waits += 1;
        if self.waits == WINDOW {
            if self.misses > WINDOW / 8 {
                self.margin = (self.margin * 2).min(MAX_MARGIN);
            } else if self.easy == WINDOW {
                self.margin = (self.margin * 3 / 4).max(MIN_MARGIN);
            }
            (self.misses, self.easy, self.waits) = (0, 0, 0);
        }
    }
}

/// A per-connection time bound on exchanges whose single timer is re-armed only when it fires.
pub(super) struct Watchdog {
    sleep: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

impl Watchdog {
    pub(super) fn new(timeout: Duration) -> Watchdog {
        Watchdog {
            sleep: Box::pin(tokio::time::sleep(timeout)),
            timeout,
        }
    }

    /// Runs `fut` until it finishes (Some) or until `timeout` after `started` (None). Deadlines only
    /// move forward, so an early firing of the shared timer just re-arms it at the current deadline.
    pub(super) async fn run<F: Future>(&mut self, started: Instant, fut: F) -> Option<F::Output> {
        let deadline = started + self.timeout;
        let mut fut = pin!(fut);
        let sleep = &mut self.sleep;
        poll_fn(move |cx| {
            if let Poll::Ready(v) = fut.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            loop {
                match sleep.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) => {
                        if Instant::now() >= deadline {
                            return Poll::Ready(None);
                        }
                        sleep.as_mut().reset(deadline.into());
                    }
                }
            }
        })
        .await
    }
}
