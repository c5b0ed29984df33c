/* The event loop: console, signals, control socket, events, teardown. */
#include "eventloop.h"

#include "api.h"
#include "log.h"
#include "snapshot/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define MAX_CLIENTS 16
#define EVENT_QUEUE 64
#define EVENT_LINE 512
#define ESCAPE_CHAR 0x01 /* Ctrl-A, then x to quit */

enum { TAG_NOTIFY = 1, TAG_SIGNAL, TAG_STDIN, TAG_SERIAL_WAKE, TAG_LISTEN, TAG_CLIENT, TAG_TIMER };

struct client {
	int fd;
	size_t len;
	char buf[API_LINE_MAX];
};

static struct {
	struct vm *vm;
	int epfd, sigfd, listen_fd, timer_fd;
	int stdin_on; /* stdin is in the epoll set */
	int tty;      /* stdin is a terminal in raw mode */
	int escape;   /* the last console byte was the escape character */
	struct termios saved_tty;
	char sock_path[108];
	struct client clients[MAX_CLIENTS];
	/* Events from any thread, delivered to clients by the loop. */
	pthread_mutex_t ev_lock;
	char events[EVENT_QUEUE][EVENT_LINE];
	int ev_head, ev_count;
	int signal_status; /* 128+N when a signal ended the VM */
} L;			   /* zero-initialised (bss); descriptors are set up in loop_setup() */

static void epoll_add(int fd, uint32_t tag, uint32_t idx)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)tag << 32) | idx};
	if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die_errno("epoll_ctl add fd %d failed", fd);
}

void loop_cleanup(void)
{
	if (L.tty) {
		tcsetattr(0, TCSANOW, &L.saved_tty);
		L.tty = 0;
	}
	if (L.sock_path[0]) {
		unlink(L.sock_path);
		L.sock_path[0] = 0;
	}
}

static void setup_tty(void)
{
	if (!isatty(0) || tcgetattr(0, &L.saved_tty) < 0)
		return;
	struct termios raw = L.saved_tty;
	cfmakeraw(&raw);
	if (tcsetattr(0, TCSANOW, &raw) == 0)
		L.tty = 1;
}

/* A path that exists: a stale socket is replaced, anything else refused. */
static void clear_socket_path(const char *path, const struct sockaddr_un *a)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	if (!S_ISSOCK(st.st_mode))
		die_usage("--api %s: the path exists and is not a socket", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0)
		die_usage("--api %s: another process is listening on that socket", path);
	if (fd >= 0)
		close(fd);
	unlink(path);
}

static void setup_api(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		die_usage("--api %s: socket path is %zu bytes, at most %zu", path, strlen(path),
			  sizeof(a.sun_path) - 1);
	strcpy(a.sun_path, path);
	clear_socket_path(path, &a);
	L.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (L.listen_fd < 0)
		die_errno("--api: socket() failed");
	if (bind(L.listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		die_usage("--api %s: cannot bind: %s", path, strerror(e));
	}
	snprintf(L.sock_path, sizeof(L.sock_path), "%s", path);
	if (listen(L.listen_fd, 8) < 0)
		die_errno("--api %s: listen failed", path);
}

void loop_setup(struct vm *vm)
{
	L.vm = vm;
	L.epfd = L.sigfd = L.listen_fd = L.timer_fd = -1;
	pthread_mutex_init(&L.ev_lock, NULL);
	for (int i = 0; i < MAX_CLIENTS; i++)
		L.clients[i].fd = -1;
	log_exit_hook = loop_cleanup;
	if (vm->cfg->api_path)
		setup_api(vm->cfg->api_path);
	if (vm->cfg->console == CONSOLE_STDIO)
		setup_tty();
}

/* ---- events ---- */

void vm_event(struct vm *vm, const char *name, const char *fields)
{
	char line[EVENT_LINE];
	unsigned long long ms = since_start_ns() / 1000000;
	snprintf(line, sizeof(line), "{\"event\":\"%s\",\"uptime_ms\":%llu%s%s}\n", name, ms,
		 fields ? "," : "", fields ? fields : "");
	vmm_log("event %s%s%s at %llu ms", name, fields ? " " : "", fields ? fields : "", ms);
	pthread_mutex_lock(&L.ev_lock);
	if (L.ev_count < EVENT_QUEUE) {
		memcpy(L.events[(L.ev_head + L.ev_count) % EVENT_QUEUE], line, sizeof(line));
		L.ev_count++;
	}
	pthread_mutex_unlock(&L.ev_lock);
	uint64_t one = 1;
	ssize_t r = write(vm->notify_fd, &one, sizeof(one));
	(void)r;
}

static void client_close(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void client_send(struct client *c, const char *s)
{
	size_t n = strlen(s);
	ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w != (ssize_t)n)
		client_close(c); /* a client that does not read loses its connection */
}

static void flush_events(void)
{
	for (;;) {
		char line[EVENT_LINE];
		pthread_mutex_lock(&L.ev_lock);
		if (!L.ev_count) {
			pthread_mutex_unlock(&L.ev_lock);
			return;
		}
		memcpy(line, L.events[L.ev_head], sizeof(line));
		L.ev_head = (L.ev_head + 1) % EVENT_QUEUE;
		L.ev_count--;
		pthread_mutex_unlock(&L.ev_lock);
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (L.clients[i].fd >= 0)
				client_send(&L.clients[i], line);
	}
}

/* ---- deadlines: one timerfd for the earliest guest-time deadline ---- */

/* Guest time runs on CLOCK_MONOTONIC less the time spent paused. */
static void rearm_timer(void)
{
	struct vm *vm = L.vm;
	struct itimerspec its = {0};
	uint64_t d = vm_next_deadline(vm);
	pthread_mutex_lock(&vm->lock);
	int paused = vm->pause_req;
	uint64_t offset = vm->paused_total;
	pthread_mutex_unlock(&vm->lock);
	if (!paused && d != UINT64_MAX) {
		uint64_t mono = d + offset;
		if (mono == 0)
			mono = 1; /* zero would disarm */
		its.it_value.tv_sec = (time_t)(mono / 1000000000ull);
		its.it_value.tv_nsec = (long)(mono % 1000000000ull);
	}
	if (timerfd_settime(L.timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		die_errno("timerfd_settime failed");
}

static void timer_fired(void)
{
	uint64_t n;
	if (read(L.timer_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		die_errno("timerfd read failed");
	vm_check_deadlines(L.vm);
}

/* ---- control socket ---- */

static void reply_error(struct client *c, const char *msg)
{
	char esc[512], out[600];
	json_escape(esc, sizeof(esc), msg);
	snprintf(out, sizeof(out), "{\"ok\":false,\"error\":\"%s\"}\n", esc);
	client_send(c, out);
}

static void reply_status(struct client *c)
{
	struct vm *vm = L.vm;
	char out[256];
	int clients = 0;
	for (int i = 0; i < MAX_CLIENTS; i++)
		clients += L.clients[i].fd >= 0;
	pthread_mutex_lock(&vm->lock);
	int paused = vm->pause_req;
	pthread_mutex_unlock(&vm->lock);
	snprintf(out, sizeof(out),
		 "{\"ok\":true,\"state\":\"%s\",\"vcpus\":%d,\"mem_mib\":%llu,"
		 "\"uptime_ms\":%llu,\"session\":\"%016llx\",\"clients\":%d}\n",
		 paused ? "paused" : "running", vm->ncpus, (unsigned long long)(vm->mem.size >> 20),
		 (unsigned long long)(since_start_ns() / 1000000),
		 (unsigned long long)vm->heartbeat.session, clients);
	client_send(c, out);
}

static int vm_is_paused(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	int paused = vm->pause_req;
	pthread_mutex_unlock(&vm->lock);
	return paused;
}

/* {"cmd":"snapshot","path":P,"then":T}: pause, dump, then resume, exit or stay paused. */
static void api_snapshot(struct client *c, const struct api_request *req)
{
	struct vm *vm = L.vm;
	struct snap_result res;
	char err[512], msg[600], esc[API_LINE_MAX];
	int was_paused = vm_is_paused(vm);
	if (vm_snapshot(vm, req->path, &res, err, sizeof(err))) {
		vm_snapshot_done(vm, !was_paused);
		vmm_log("snapshot %s failed: %s", req->path, err);
		snprintf(msg, sizeof(msg), "snapshot failed: %s", err);
		reply_error(c, msg);
		return;
	}
	vm_snapshot_event(vm, req->path, &res);
	json_escape(esc, sizeof(esc), req->path);
	char out[API_LINE_MAX + 256];
	static const char *const then_names[] = {"resume", "exit", "pause"};
	snprintf(out, sizeof(out),
		 "{\"ok\":true,\"path\":\"%s\",\"bytes\":%llu,\"data_bytes\":%llu,\"ms\":%llu,"
		 "\"then\":\"%s\"}\n",
		 esc, (unsigned long long)res.file_bytes, (unsigned long long)res.data_bytes,
		 (unsigned long long)res.ms, then_names[req->then]);
	client_send(c, out);
	switch (req->then) {
	case THEN_RESUME:
		vm_snapshot_done(vm, 1);
		if (was_paused)
			vm_event(vm, "resumed", NULL);
		break;
	case THEN_PAUSE:
		vm_snapshot_done(vm, 0);
		if (!was_paused)
			vm_event(vm, "paused", NULL);
		break;
	case THEN_EXIT:
		/* Devices stay stopped: nothing may change the disks after the dump. */
		vm_request_exit(vm, 0, "snapshot written, then exit");
		break;
	}
}

/* --snapshot-on-ready: the guest wrote READY and its vCPU parked itself. */
static void ready_dump(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	int due = vm->ready_dump;
	vm->ready_dump = 0;
	pthread_mutex_unlock(&vm->lock);
	if (!due)
		return;
	struct snap_result res;
	char err[512], why[600];
	const char *path = vm->cfg->snapshot_on_ready;
	if (vm_snapshot(vm, path, &res, err, sizeof(err))) {
		snprintf(why, sizeof(why), "--snapshot-on-ready %s: %s", path, err);
		vmm_log("%s", why);
		vm_request_exit(vm, EXIT_VMM_FAILED, why);
		return;
	}
	vm_snapshot_event(vm, path, &res);
	vm_request_exit(vm, 0, "snapshot written at READY");
}

static void handle_request(struct client *c, const char *line, size_t len)
{
	struct api_request req;
	char err[256];
	struct vm *vm = L.vm;
	if (api_parse_request(line, len, &req, err, sizeof(err))) {
		reply_error(c, err);
		return;
	}
	switch (req.cmd) {
	case API_STATUS:
		reply_status(c);
		break;
	case API_PAUSE:
		vm_pause(vm);
		client_send(c, "{\"ok\":true,\"state\":\"paused\"}\n");
		vm_event(vm, "paused", NULL);
		break;
	case API_RESUME:
		vm_resume(vm);
		client_send(c, "{\"ok\":true,\"state\":\"running\"}\n");
		vm_event(vm, "resumed", NULL);
		break;
	case API_SNAPSHOT:
		api_snapshot(c, &req);
		break;
	case API_QUIT:
		client_send(c, "{\"ok\":true}\n");
		vm_request_exit(vm, 0, "quit through the control socket");
		break;
	}
}

static void client_readable(struct client *c)
{
	ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		client_close(c);
		return;
	}
	c->len += (size_t)r;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (!nl)
			break;
		size_t n = (size_t)(nl - c->buf);
		handle_request(c, c->buf, n);
		if (c->fd < 0)
			return;
		memmove(c->buf, nl + 1, c->len - n - 1);
		c->len -= n + 1;
	}
	if (c->len == sizeof(c->buf)) {
		reply_error(c, "request line longer than 4096 bytes");
		client_close(c);
	}
}

static void accept_client(void)
{
	int fd = accept4(L.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (L.clients[i].fd < 0) {
			L.clients[i].fd = fd;
			L.clients[i].len = 0;
			epoll_add(fd, TAG_CLIENT, (uint32_t)i);
			return;
		}
	}
	const char *busy = "{\"ok\":false,\"error\":\"too many clients\"}\n";
	ssize_t w = send(fd, busy, strlen(busy), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)w;
	close(fd);
}

/* ---- console ---- */

static void stdin_off(void)
{
	if (L.stdin_on) {
		epoll_ctl(L.epfd, EPOLL_CTL_DEL, 0, NULL);
		L.stdin_on = 0;
	}
}

/* Filter Ctrl-A escapes on a terminal; returns bytes left for the guest. */
static size_t console_escapes(uint8_t *buf, size_t n)
{
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = buf[i];
		if (L.escape) {
			L.escape = 0;
			if (c == 'x' || c == 'X') {
				L.signal_status = 128 + SIGINT;
				vm_request_exit(L.vm, 128 + SIGINT, "Ctrl-A x on the console");
				return out;
			}
			if (c != ESCAPE_CHAR)
				buf[out++] = ESCAPE_CHAR;
		} else if (c == ESCAPE_CHAR) {
			L.escape = 1;
			continue;
		}
		buf[out++] = c;
	}
	return out;
}

static void stdin_readable(void)
{
	uint32_t space = serial_rx_space(&L.vm->serial);
	if (!space) {
		stdin_off(); /* back on when the guest drains the receive buffer */
		return;
	}
	uint8_t buf[SERIAL_RX_SIZE];
	ssize_t r = read(0, buf, space < sizeof(buf) ? space : sizeof(buf));
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		stdin_off(); /* EOF: the guest keeps running without input */
		return;
	}
	size_t n = L.tty ? console_escapes(buf, (size_t)r) : (size_t)r;
	serial_push_input(&L.vm->serial, buf, (uint32_t)n);
}

/* ---- loop ---- */

static void handle_signal(void)
{
	struct signalfd_siginfo si;
	if (read(L.sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	char why[64];
	snprintf(why, sizeof(why), "signal %u (%s)", si.ssi_signo, strsignal((int)si.ssi_signo));
	L.signal_status = 128 + (int)si.ssi_signo;
	vm_request_exit(L.vm, 128 + (int)si.ssi_signo, why);
}

void loop_prepare(struct vm *vm)
{
	L.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (L.epfd < 0)
		die_errno("epoll_create1 failed");
	sigset_t set;
	termination_signals(&set);
	L.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (L.sigfd < 0)
		die_errno("signalfd failed");
	L.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (L.timer_fd < 0)
		die_errno("timerfd_create failed");
	epoll_add(vm->notify_fd, TAG_NOTIFY, 0);
	epoll_add(L.sigfd, TAG_SIGNAL, 0);
	epoll_add(L.timer_fd, TAG_TIMER, 0);
	if (vm->serial.wake_fd >= 0)
		epoll_add(vm->serial.wake_fd, TAG_SERIAL_WAKE, 0);
	if (vm->cfg->console == CONSOLE_STDIO) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)TAG_STDIN << 32};
		/* A regular file or /dev/null on stdin cannot be polled: no input then. */
		if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, 0, &ev) == 0)
			L.stdin_on = 1;
	}
	if (L.listen_fd >= 0)
		epoll_add(L.listen_fd, TAG_LISTEN, 0);
}

static int vm_exit_status(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	int s = vm->exit_status;
	pthread_mutex_unlock(&vm->lock);
	return s;
}

static void dispatch(uint64_t data)
{
	uint32_t tag = (uint32_t)(data >> 32), idx = (uint32_t)data;
	uint64_t count;
	switch (tag) {
	case TAG_NOTIFY:
		if (read(L.vm->notify_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			die_errno("notify eventfd read failed");
		flush_events();
		break;
	case TAG_SIGNAL:
		handle_signal();
		break;
	case TAG_STDIN:
		stdin_readable();
		break;
	case TAG_SERIAL_WAKE:
		if (read(L.vm->serial.wake_fd, &count, sizeof(count)) > 0 && !L.stdin_on &&
		    L.vm->cfg->console == CONSOLE_STDIO) {
			struct epoll_event ev = {.events = EPOLLIN,
						 .data.u64 = (uint64_t)TAG_STDIN << 32};
			if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, 0, &ev) == 0)
				L.stdin_on = 1;
		}
		break;
	case TAG_LISTEN:
		accept_client();
		break;
	case TAG_CLIENT:
		if (idx < MAX_CLIENTS && L.clients[idx].fd >= 0)
			client_readable(&L.clients[idx]);
		break;
	case TAG_TIMER:
		timer_fired();
		break;
	}
}

int loop_run(struct vm *vm)
{
	rearm_timer(); /* a restored VM starts with its timers already armed */
	while (vm_exit_status(vm) < 0) {
		struct epoll_event evs[16];
		int n = epoll_wait(L.epfd, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die_errno("epoll_wait failed");
		}
		for (int i = 0; i < n; i++)
			dispatch(evs[i].data.u64);
		ready_dump(vm);
		/* Pauses, resumes, pings and beats all move the next deadline. */
		rearm_timer();
	}
	vm_stop_vcpus(vm);
	for (int i = 0; i < vm->nvirtio; i++)
		virtio_stop(vm->virtio[i]);
	int status = vm_exit_status(vm);
	char fields[192], esc[160];
	json_escape(esc, sizeof(esc), vm->exit_why);
	snprintf(fields, sizeof(fields), "\"status\":%d,\"reason\":\"%s\"", status, esc);
	vm_event(vm, "guest-exit", fields);
	flush_events();
	loop_cleanup();
	return status;
}
