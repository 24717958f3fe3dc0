// Tiny C helpers for what Swift's Glibc module does not export (epoll, accept4) or cannot call
// (varargs fcntl, C's stdout). Each one is a thin, documented pass-through.
#ifndef ELANUS_CSYSTEM_H
#define ELANUS_CSYSTEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <signal.h>

#ifdef __cplusplus
extern "C" {
#endif

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC. Returns the fd or -1 (errno set).
/// Writes the peer's numeric address, NUL-terminated, into `peer` (`peer_len` bytes; 46 fit any
/// IPv6 text): "127.0.0.1", "2001:db8::1". An IPv4 peer on a dual-stack IPv6 socket reads as
/// plain IPv4, so one client has one address whichever way the server listens. A peer whose
/// address cannot be written gets "".
int csys_accept_nonblocking(int listen_fd, char *peer, size_t peer_len);

/// Sets O_NONBLOCK on or off. Returns 0 or -1 (errno set).
int csys_set_nonblocking(int fd, int on);

/// epoll_create1(EPOLL_CLOEXEC).
/// A non-blocking, close-on-exec eventfd (a thread's wake-up counter), or -1.
int csys_eventfd(void);

/// Names the calling thread (at most 15 bytes are kept), and reads that name back.
int csys_set_thread_name(const char *name);
int csys_thread_name(char *buffer, size_t length);

int csys_epoll_create(void);

/// epoll_ctl with the given events; the event's user data holds the fd and `tag` (a connection's
/// generation, so an event that outlived its connection is told from one for a reused fd).
int csys_epoll_ctl(int epfd, int op, int fd, uint32_t tag, uint32_t events);

/// epoll_wait that writes up to `max` ready fds, their tags and event masks. Returns the count or -1.
int csys_epoll_wait(int epfd, int32_t *fds, uint32_t *tags, uint32_t *events, int max, int timeout_ms);

/// Makes stdout and stderr line-buffered, so a crash loses no earlier log line.
void csys_line_buffer_stdio(void);

/// Blocks SIGINT, SIGTERM and SIGPIPE in the calling thread (and the threads it creates later),
/// so that `csys_wait_for_shutdown_signal` can take them synchronously with sigwait.
void csys_block_shutdown_signals(void);

/// Waits for SIGINT or SIGTERM and returns the signal number.
int csys_wait_for_shutdown_signal(void);

/// Sends SIGTERM to this process (used to wake the signal waiter on a programmatic shutdown).
void csys_raise_sigterm(void);

/// CRC-32C (Castagnoli) of `length` bytes, continuing from `crc` (0 to start). Uses the SSE4.2
/// crc32 instruction when the CPU has it, a table otherwise; both give the same value.
uint32_t csys_crc32c(uint32_t crc, const void *data, size_t length);

/// glibc malloc for a server that frees large blocks: every allocation of at least
/// `mmap_threshold` bytes gets its own mapping, returned to the system when freed (by default
/// glibc raises the threshold each time a large block is freed, so later ones stay in its heaps
/// after they are freed), and at most `arenas` heaps.
void csys_tune_malloc(size_t mmap_threshold, int arenas);

/// Returns the free pages of every malloc heap to the system (after large frees).
void csys_release_free_memory(void);

#ifdef __cplusplus
}
#endif

#endif
