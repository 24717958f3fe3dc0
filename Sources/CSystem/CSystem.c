#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <malloc.h>
#include <string.h>
#include "CSystem.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int csys_accept_nonblocking(int listen_fd, char *peer, size_t peer_len) {
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    int fd = accept4(listen_fd, (struct sockaddr *)&address, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0 || peer == NULL || peer_len == 0) return fd;
    peer[0] = 0;
    const char *ok = NULL;
    if (address.ss_family == AF_INET) {
        ok = inet_ntop(AF_INET, &((struct sockaddr_in *)&address)->sin_addr, peer, (socklen_t)peer_len);
    } else if (address.ss_family == AF_INET6) {
        struct in6_addr *a6 = &((struct sockaddr_in6 *)&address)->sin6_addr;
        // ::ffff:a.b.c.d is an IPv4 client of a dual-stack socket: its last four bytes are the address.
        ok = IN6_IS_ADDR_V4MAPPED(a6) ? inet_ntop(AF_INET, &a6->s6_addr[12], peer, (socklen_t)peer_len)
                                      : inet_ntop(AF_INET6, a6, peer, (socklen_t)peer_len);
    }
    if (ok == NULL) peer[0] = 0;
    return fd;
}

int csys_set_nonblocking(int fd, int on) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0) return -1;
    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, flags);
}

int csys_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int csys_set_thread_name(const char *name) {
    char shortened[16];
    strncpy(shortened, name, sizeof(shortened) - 1);
    shortened[sizeof(shortened) - 1] = 0;
    return pthread_setname_np(pthread_self(), shortened);
}

int csys_thread_name(char *buffer, size_t length) { return pthread_getname_np(pthread_self(), buffer, length); }

int csys_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int csys_epoll_ctl(int epfd, int op, int fd, uint32_t tag, uint32_t events) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)tag << 32);
    return epoll_ctl(epfd, op, fd, &ev);
}

int csys_epoll_wait(int epfd, int32_t *fds, uint32_t *tags, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        fds[i] = (int32_t)(uint32_t)(evs[i].data.u64 & 0xffffffffu);
        tags[i] = (uint32_t)(evs[i].data.u64 >> 32);
        events[i] = evs[i].events;
    }
    return n;
}

void csys_line_buffer_stdio(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IOLBF, 0);
}

static sigset_t shutdown_set(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

void csys_block_shutdown_signals(void) {
    sigset_t set = shutdown_set();
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    // A peer that closes early must not kill the process: writes use MSG_NOSIGNAL, and SIGPIPE
    // is ignored as a second line of defence.
    signal(SIGPIPE, SIG_IGN);
}

int csys_wait_for_shutdown_signal(void) {
    sigset_t set = shutdown_set();
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {}
    return sig;
}

void csys_raise_sigterm(void) { kill(getpid(), SIGTERM); }

// ---- CRC-32C ----

static uint32_t crc_table[256];
static int crc_hw = 0;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
    __builtin_cpu_init();
    crc_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

__attribute__((target("sse4.2"))) static uint32_t crc_hardware(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t v;
        __builtin_memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}

uint32_t csys_crc32c(uint32_t crc, const void *data, size_t length) {
    pthread_once(&crc_once, crc_init);
    const uint8_t *p = (const uint8_t *)data;
    crc = ~crc;
    if (crc_hw) {
        crc = crc_hardware(crc, p, length);
    } else {
        while (length--) crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    }
    return ~crc;
}

void csys_tune_malloc(size_t mmap_threshold, int arenas) {
    mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold);
    if (arenas > 0) mallopt(M_ARENA_MAX, arenas);
}

void csys_release_free_memory(void) { malloc_trim(0); }
