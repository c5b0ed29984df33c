/*
 * The event loop thread: epoll over the console, signals, the control socket
 * and wake-ups from vCPU threads. It owns the terminal and the API clients.
 */
#ifndef VMM_EVENTLOOP_H
#define VMM_EVENTLOOP_H

#include "vm.h"

/*
 * Prepare the console (raw mode when stdin is a terminal) and bind the
 * control socket when cfg asks for one. Exits with status 2 on a bad socket
 * path. Call before any vCPU runs.
 */
void loop_setup(struct vm *vm);

/* Create the loop's own descriptors (epoll, signalfd, timerfd); before seccomp. */
void loop_prepare(struct vm *vm);

/* Run until the VM ends; tears it down and returns vmm's exit status. */
int loop_run(struct vm *vm);

/* Undo loop_setup (terminal, socket file); safe to call more than once. */
void loop_cleanup(void);

#endif
