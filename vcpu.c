/*
 * vCPU threads: the KVM_RUN loop, exit dispatch to the buses, and the pause
 * rendezvous. A kick sets immediate_exit and signals the thread; KVM_RUN then
 * finishes any half-done I/O exit and returns EINTR, the only place where
 * pause and stop requests are looked at.
 */
#include "vm.h"

#include "log.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#define SIG_KICK SIGUSR1

static __thread struct vcpu *this_vcpu; /* the vCPU this thread runs, if any */

static void kick_handler(int sig)
{
	(void)sig; /* its only job is to make KVM_RUN return EINTR */
}

static void vcpu_kick(struct vcpu *v)
{
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(v->thread, SIG_KICK);
}

static void vcpu_fatal(struct vcpu *v, const char *what)
{
	struct kvm_regs regs = {0};
	ioctl(v->fd, KVM_GET_REGS, &regs);
	char why[128];
	snprintf(why, sizeof(why), "vCPU %d: %s at RIP 0x%llx", v->id, what,
		 (unsigned long long)regs.rip);
	vmm_log("%s", why);
	vm_request_exit(v->vm, EXIT_VMM_FAILED, why);
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	int is_write = r->io.direction == KVM_EXIT_IO_OUT;
	for (uint32_t i = 0; i < r->io.count; i++)
		bus_access(&v->vm->pio, r->io.port, data + (size_t)i * r->io.size, r->io.size,
			   is_write);
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint32_t len = r->mmio.len <= 8 ? r->mmio.len : 8;
	bus_access(&v->vm->mmio, r->mmio.phys_addr, r->mmio.data, len, r->mmio.is_write);
}

static void handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_guest_exit(v->vm, 0, "guest shut down");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_guest_exit(v->vm, 0, "guest reset");
		break;
	default:
		vcpu_fatal(v, "unexpected system event");
		break;
	}
}

/* Returns 0 to keep running, -1 when this vCPU must stop. */
static int handle_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	char what[96];
	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(v);
		return 0;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		return 0;
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_SHUTDOWN:
		vm_guest_exit(v->vm, 0, "guest reset (triple fault)");
		return -1;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(v);
		return -1;
	case KVM_EXIT_HLT:
		vcpu_fatal(v, "halted with the in-kernel irqchip absent");
		return -1;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "KVM entry failed, hardware reason 0x%llx",
			 (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		vcpu_fatal(v, what);
		return -1;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM internal error, suberror %u",
			 r->internal.suberror);
		vcpu_fatal(v, what);
		return -1;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit reason %u", r->exit_reason);
		vcpu_fatal(v, what);
		return -1;
	}
}

/* Park in the rendezvous until resumed or stopped. Returns 1 if stopping. */
static int vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	pthread_mutex_lock(&vm->lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->cond);
	while (vm->pause_req && !vm->stopping)
		pthread_cond_wait(&vm->cond, &vm->lock);
	vm->parked--;
	int stop = vm->stopping;
	pthread_mutex_unlock(&vm->lock);
	if (!stop)
		/* Tell a kvmclock guest it was stopped, so its watchdogs don't fire. */
		ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0);
	return stop;
}

/* After EINTR: 1 when the loop must end. */
static int vcpu_check_requests(struct vcpu *v)
{
	struct vm *vm = v->vm;
	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&v->nmi_pending, 0, __ATOMIC_ACQ_REL) &&
	    ioctl(v->fd, KVM_NMI, 0) < 0)
		vmm_log("vCPU %d: KVM_NMI failed: %s", v->id, strerror(errno));
	pthread_mutex_lock(&vm->lock);
	int stop = vm->stopping, pause = vm->pause_req;
	pthread_mutex_unlock(&vm->lock);
	if (stop)
		return 1;
	if (pause)
		return vcpu_park(v);
	return 0;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;
	this_vcpu = v;
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	seccomp_enter(THREAD_VCPU); /* before the first guest instruction */
	if (v->vm->restored)
		ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0); /* a restored guest was stopped: no lockups */
	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno != EINTR && errno != EAGAIN) {
				char what[96];
				snprintf(what, sizeof(what), "KVM_RUN failed: %s", strerror(errno));
				vcpu_fatal(v, what);
				break;
			}
			if (vcpu_check_requests(v))
				break;
			continue;
		}
		if (handle_exit(v) < 0 || __atomic_load_n(&v->vm->stopping, __ATOMIC_ACQUIRE))
			break;
	}
	pthread_mutex_lock(&v->vm->lock);
	v->vm->running--;
	pthread_cond_broadcast(&v->vm->cond);
	pthread_mutex_unlock(&v->vm->lock);
	return NULL;
}

void vcpus_start(struct vm *vm)
{
	struct sigaction sa = {.sa_handler = kick_handler};
	sigemptyset(&sa.sa_mask);
	sigaction(SIG_KICK, &sa, NULL);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	vm->running = vm->ncpus;
	for (int i = 0; i < vm->ncpus; i++) {
		int err = pthread_create(&vm->vcpus[i].thread, &attr, vcpu_thread, &vm->vcpus[i]);
		if (err) {
			errno = err;
			die_errno("cannot start the thread of vCPU %d", i);
		}
	}
	pthread_attr_destroy(&attr);
}

static void pause_request(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->pause_req) {
		vm->pause_req = 1;
		vm->paused_at = now_ns();
	}
	pthread_mutex_unlock(&vm->lock);
}

void vm_pause_here(struct vm *vm)
{
	pause_request(vm);
	if (this_vcpu)
		__atomic_store_n(&this_vcpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
}

void vm_pause(struct vm *vm)
{
	pause_request(vm);
	for (int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->lock);
	while (vm->parked < vm->running && !vm->stopping)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->pause_req) {
		vm->pause_req = 0;
		vm->paused_total += now_ns() - vm->paused_at;
		vm->paused_at = 0;
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
}

void vm_stop_vcpus(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->stopping = 1;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 1;
	pthread_mutex_lock(&vm->lock);
	while (vm->running > 0)
		if (pthread_cond_timedwait(&vm->cond, &vm->lock, &deadline) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&vm->lock);
}

void vm_inject_nmi(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++) {
		__atomic_store_n(&vm->vcpus[i].nmi_pending, 1, __ATOMIC_RELEASE);
		vcpu_kick(&vm->vcpus[i]);
	}
}

uint64_t vm_guest_time_ns(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	uint64_t now = vm->paused_at ? vm->paused_at : now_ns();
	uint64_t t = now - vm->paused_total;
	pthread_mutex_unlock(&vm->lock);
	return t;
}
