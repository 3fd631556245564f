#define _GNU_SOURCE
#include "cshim_signals.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int control_pipe[2] = {-1, -1};

static void control_signal_handler(int sig) {
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    (void)!write(control_pipe[1], &b, 1);  /* non-blocking: a full pipe drops the byte */
    errno = saved;
}

int cshim_control_signals_install(void) {
    static int installed = 0;
    if (__atomic_exchange_n(&installed, 1, __ATOMIC_ACQ_REL)) {
        while (__atomic_load_n(&control_pipe[0], __ATOMIC_ACQUIRE) < 0) {  /* another thread is installing */
            if (!__atomic_load_n(&installed, __ATOMIC_ACQUIRE)) return -1;  /* ... and failed */
        }
        return control_pipe[0];
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        __atomic_store_n(&installed, 0, __ATOMIC_RELEASE);  /* let a later call try again */
        return -1;
    }
    (void)fcntl(fds[1], F_SETFL, O_NONBLOCK);
    control_pipe[1] = fds[1];
    __atomic_store_n(&control_pipe[0], fds[0], __ATOMIC_RELEASE);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = control_signal_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* The mask is inherited across exec: a parent that had these blocked (a test runner, a shell
       helper) would leave them pending forever. Unblock them here — in the constructor that is the
       main thread, which then keeps taking them (it only waits for the command to finish). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return fds[0];
}

/// `lwaftr run` only (by argv): handlers in place before the Swift runtime starts any thread, so
/// a signal sent right after exec is queued for the service lifecycle instead of killing us.
__attribute__((constructor)) static void cshim_control_signals_early(int argc, char **argv) {
    if (argc < 2 || argv == NULL || argv[0] == NULL || argv[1] == NULL) return;
    const char *slash = strrchr(argv[0], '/');
    const char *name = slash ? slash + 1 : argv[0];
    if (strcmp(name, "lwaftr") == 0 && strcmp(argv[1], "run") == 0) (void)cshim_control_signals_install();
}
