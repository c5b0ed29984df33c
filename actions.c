/*
 * Watchdog and heartbeat actions, and the deadlines that trigger them. All of
 * this runs on the event loop thread.
 */
#include "vm.h"

#include "log.h"
#include "snapshot/snapshot.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* A fresh machine: new VM, zeroed RAM, kernel loaded again, devices reset. */
static void machine_reset(struct vm *vm)
{
	if (vm->restored) {
		/* No kernel to boot again: the snapshot's machine cannot be rebuilt. */
		vm_request_exit(vm, EXIT_WATCHDOG,
				"reset action: a restored VM cannot reboot, so it ends");
		return;
	}
	vm_pause(vm);
	machine_reset_devices(vm);
	kvm_destroy_vm(vm);
	if (madvise(vm->mem.host, vm->mem.size, MADV_DONTNEED) < 0)
		die_errno("reset: cannot discard guest RAM");
	machine_build(vm, 1);
	pthread_mutex_lock(&vm->lock);
	vm->shutdown_pending = 0;
	pthread_mutex_unlock(&vm->lock);
	vm_resume(vm);
}

/* Write the VM to --dump-to, then end it with 124 (1 if the dump failed). */
static void dump(struct vm *vm, const char *why)
{
	struct snap_result res;
	char err[512], msg[700];
	if (vm_snapshot(vm, vm->cfg->dump_to, &res, err, sizeof(err))) {
		snprintf(msg, sizeof(msg), "%s: writing %s failed: %s", why, vm->cfg->dump_to, err);
		vmm_log("%s", msg);
		vm_request_exit(vm, EXIT_VMM_FAILED, msg);
		return;
	}
	vm_snapshot_event(vm, vm->cfg->dump_to, &res);
	vm_request_exit(vm, EXIT_WATCHDOG, why);
}

/* Ctrl-Alt-Del press and release in scancode set 1, as the guest reads them. */
static const uint8_t ctrl_alt_del[] = {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d};

void vm_run_action(struct vm *vm, enum vm_action a, const char *source, const char *event)
{
	char f[96], why[96];
	if (event) {
		snprintf(f, sizeof(f), "\"action\":\"%s\"", action_name(a));
		vm_event(vm, event, f);
	}
	snprintf(why, sizeof(why), "%s action %s", source, action_name(a));
	switch (a) {
	case ACTION_NONE:
		break;
	case ACTION_RESET:
		machine_reset(vm);
		break;
	case ACTION_SHUTDOWN:
		pthread_mutex_lock(&vm->lock);
		vm->shutdown_pending = 1;
		pthread_mutex_unlock(&vm->lock);
		vm->shutdown_deadline = vm_guest_time_ns(vm) + SHUTDOWN_GRACE_S * 1000000000ull;
		i8042_send_scancodes(&vm->i8042, ctrl_alt_del, sizeof(ctrl_alt_del));
		break;
	case ACTION_POWEROFF:
		vm_request_exit(vm, EXIT_WATCHDOG, why);
		break;
	case ACTION_DUMP:
		dump(vm, why);
		break;
	case ACTION_PAUSE:
		vm_pause(vm);
		vm_event(vm, "paused", NULL);
		break;
	case ACTION_INJECT_NMI:
		vm_inject_nmi(vm);
		break;
	}
}

uint64_t vm_next_deadline(struct vm *vm)
{
	uint64_t d = ib700_next_deadline(&vm->ib700);
	uint64_t h = heartbeat_next_deadline(&vm->heartbeat);
	if (h < d)
		d = h;
	pthread_mutex_lock(&vm->lock);
	if (vm->shutdown_pending && vm->shutdown_deadline < d)
		d = vm->shutdown_deadline;
	pthread_mutex_unlock(&vm->lock);
	return d;
}

void vm_check_deadlines(struct vm *vm)
{
	uint64_t now = vm_guest_time_ns(vm);
	pthread_mutex_lock(&vm->lock);
	int paused = vm->pause_req,
	    grace_over = vm->shutdown_pending && now >= vm->shutdown_deadline;
	pthread_mutex_unlock(&vm->lock);
	if (paused)
		return; /* guest time stands still; nothing can be due */
	if (grace_over) {
		char why[80];
		snprintf(why, sizeof(why), "guest did not shut down within %d s of the request",
			 SHUTDOWN_GRACE_S);
		vm_request_exit(vm, EXIT_WATCHDOG, why);
		return;
	}
	if (ib700_expire(&vm->ib700, now))
		vm_run_action(vm, vm->cfg->watchdog_action, "watchdog", "watchdog-expired");
	if (heartbeat_expire(&vm->heartbeat, now))
		vm_run_action(vm, vm->cfg->hb_action, "heartbeat", NULL);
}
