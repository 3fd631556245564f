#ifndef CSHIM_SIGNALS_H
#define CSHIM_SIGNALS_H

/// Installs a handler for SIGHUP, SIGTERM and SIGINT that writes the signal number (one byte)
/// to a pipe, and returns the pipe's read end (idempotent: later calls return the same fd).
/// No thread of the process can then be killed by these signals' default action. `lwaftr run`
/// installs it from a constructor, before main and before any thread exists.
int cshim_control_signals_install(void);

#endif
