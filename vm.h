/* The virtual machine: configuration, KVM handles, devices, run state. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include "boot/loader.h"
#include "devices/bus.h"
#include "devices/i8042.h"
#include "devices/ib700.h"
#include "devices/pseudo/heartbeat.h"
#include "devices/serial.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/net.h"
#include "memory.h"
#include "seccomp/seccomp.h"

#include <pthread.h>
#include <stdint.h>

#define VMM_MAX_VCPUS 254 /* the MP table's APIC id space less the IOAPIC */
#define VMM_MAX_DISKS 8
#define VMM_MAX_NETS 4

struct disk_config {
	const char *path;
	int ro, ephemeral;
};

struct net_config {
	const char *tap;
	int has_mac;
	uint8_t mac[6];
};

enum console_mode { CONSOLE_STDIO, CONSOLE_NONE, CONSOLE_FILE };

/* What the watchdog or the heartbeat does when it fires (DESIGN.md). */
enum vm_action {
	ACTION_NONE,
	ACTION_RESET,
	ACTION_SHUTDOWN,
	ACTION_POWEROFF,
	ACTION_PAUSE,
	ACTION_DUMP,
	ACTION_INJECT_NMI,
};

#define SHUTDOWN_GRACE_S 10 /* guest seconds a watchdog shutdown waits */

struct vm_config {
	const char *kernel, *initrd, *cmdline;
	uint64_t mem;
	int cpus;
	const char *api_path;
	enum console_mode console;
	const char *console_path;
	char **guest_argv; /* command after "--", NULL-terminated; NULL if none */
	enum vm_action watchdog_action;
	uint32_t hb_interval_ms, hb_timeout_ms; /* 0: heartbeat monitor not offered */
	enum vm_action hb_action;
	enum seccomp_mode seccomp;
	int ndisks;
	struct disk_config disks[VMM_MAX_DISKS];
	int nnets;
	struct net_config nets[VMM_MAX_NETS];
	const char *snapshot_on_ready; /* dump here when the guest writes READY, then exit 0 */
	const char *dump_to;	       /* where the dump action writes */
	const uint8_t *snapshot_key;   /* HMAC key for written and restored files, or NULL */
	size_t snapshot_key_len;
};

/* Everything needed to load the guest again on a watchdog reset. */
struct boot_plan {
	const uint8_t *kernel; /* the mapped kernel file */
	size_t kernel_len;
	struct kernel_image img;
	char *cmdline;
	int initrd_fd;
	uint64_t initrd_gpa, initrd_size;
};

struct vm;

struct vcpu {
	struct vm *vm;
	int id, fd;
	struct kvm_run *run;
	pthread_t thread;
	int nmi_pending; /* inject an NMI before the next KVM_RUN */
};

struct vm {
	struct vm_config *cfg;
	int kvm_fd, vm_fd;
	int run_size;
	uint64_t
	    slot_ns; /* time KVM took to register the memory slots (it grows with their size) */
	struct guest_mem mem;
	struct boot_plan boot;
	int ncpus;
	struct vcpu vcpus[VMM_MAX_VCPUS];
	struct bus pio, mmio;
	struct serial serial;
	struct i8042 i8042;
	struct ib700 ib700;
	struct heartbeat heartbeat;
	struct virtio_blk blk[VMM_MAX_DISKS];
	struct virtio_net net[VMM_MAX_NETS];
	struct virtio_dev rng;
	int nvirtio; /* in MMIO order: disks, nets, then rng */
	struct virtio_dev *virtio[VIRTIO_MAX_DEVICES];
	struct machine_hooks hooks;

	/* Run state, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int pause_req;	       /* vCPUs must park */
	int stopping;	       /* vCPUs must leave their loops */
	int parked;	       /* vCPUs parked in the rendezvous */
	int running;	       /* vCPU threads still in their loop */
	uint64_t paused_at;    /* monotonic ns when the pause began, 0 if running */
	uint64_t paused_total; /* ns spent paused, for guest time */

	int shutdown_pending;	    /* a watchdog shutdown asked the guest to power down */
	uint64_t shutdown_deadline; /* guest time when it is powered off regardless */

	int ready_dump; /* READY arrived with --snapshot-on-ready: the loop dumps */
	int restored;	/* vCPUs tell kvmclock they were stopped before their first run */

	int exit_status; /* -1 until something ends the VM */
	char exit_why[128];
	int notify_fd; /* eventfd: wakes the event loop */
};

/* Set up KVM: open /dev/kvm, create the VM, irqchip, PIT and memory slots. */
void kvm_create_vm(struct vm *vm);

/* Largest vCPU count this host's KVM allows (and vmm supports). */
int kvm_max_vcpus(struct vm *vm);

/* Create vCPU id with CPUID, MSRs and LAPIC set; BSP state comes later. */
void vcpu_create(struct vm *vm, int id);

/* Create vCPU id with nothing set (a restore sets all of its state). */
void vcpu_open(struct vm *vm, int id);

/* KVM_GET_SUPPORTED_CPUID of this host (opens /dev/kvm if needed; cached). */
struct kvm_cpuid2;
const struct kvm_cpuid2 *kvm_supported_cpuid(struct vm *vm);

/* Put the boot vCPU at the kernel's entry point in the kernel's mode. */
void vcpu_set_boot_state(struct vcpu *v, const struct kernel_image *img);

/* Close every vCPU and the VM itself (the KVM fd stays open). */
void kvm_destroy_vm(struct vm *vm);

/* Start every vCPU thread. */
void vcpus_start(struct vm *vm);

/* Park every vCPU out of KVM_RUN; returns when all are parked. */
void vm_pause(struct vm *vm);

/*
 * From a vCPU's exit handler: stop guest time and park this vCPU before it
 * runs another guest instruction; vm_pause on the event loop parks the rest.
 */
void vm_pause_here(struct vm *vm);

/* Release parked vCPUs. */
void vm_resume(struct vm *vm);

/* Make every vCPU leave its loop; waits up to a second for them. */
void vm_stop_vcpus(struct vm *vm);

/* End the VM with status (first caller wins); wakes the event loop. */
void vm_request_exit(struct vm *vm, int status, const char *why);

/* The guest ended itself (EXIT, reset, triple fault, shutdown): status 124 instead during a
 * watchdog shutdown. */
void vm_guest_exit(struct vm *vm, int status, const char *why);

/* Guest time in ns: monotonic time less the time spent paused. */
uint64_t vm_guest_time_ns(struct vm *vm);

/* Queue an event for the control socket clients and log it on stderr. */
void vm_event(struct vm *vm, const char *name, const char *json_fields);

/*
 * Build the machine from vm->boot: VM, RAM contents, boot data, vCPUs. With
 * rebuild (after kvm_destroy_vm, on a watchdog reset) the session id changes;
 * the devices were reset by machine_reset_devices before RAM was discarded.
 */
void machine_build(struct vm *vm, int rebuild);
void machine_reset_devices(struct vm *vm);

/* Ask every vCPU to take an NMI. */
void vm_inject_nmi(struct vm *vm);

/* Name of an action, and parsing one (returns 0 or -1). */
const char *action_name(enum vm_action a);
int action_parse(const char *s, enum vm_action *a);

/*
 * Carry out a watchdog or heartbeat action (source names which) on the event
 * loop thread, after emitting event (watchdog-expired, or NULL when the
 * caller already did).
 */
void vm_run_action(struct vm *vm, enum vm_action a, const char *source, const char *event);

/* Earliest guest-time deadline of the watchdog, heartbeat and shutdown grace. */
uint64_t vm_next_deadline(struct vm *vm);

/* Fire whatever deadline has passed at the current guest time. */
void vm_check_deadlines(struct vm *vm);

/* ---- shared by `vmm run` and `vmm restore` (vmm.c) ---- */

/* Block the signals the event loop takes through a signalfd, and the vCPU kick. */
void vmm_block_signals(void);

/* Locks, the notify eventfd, the device hooks, the event loop's sockets. */
void vmm_common_setup(struct vm *vm);

/* Open every --disk of cfg into vm->blk (exits 2 on problems). */
void vmm_open_disks(struct vm *vm, const struct vm_config *cfg);
void vmm_open_nets(struct vm *vm, const struct vm_config *cfg);

/* The console's descriptor for cfg: 1, a new file, or -1 for none. */
int vmm_open_console(const struct vm_config *cfg);

/* Register every device on the buses (vm->cfg, disks opened). */
void vmm_setup_devices(struct vm *vm, int console_fd);

/* Start device threads and vCPUs, confine this thread, run the loop, exit. */
void vmm_run(struct vm *vm) __attribute__((noreturn));

/* `vmm restore` and `vmm inspect` (snapshot/restore.c, snapshot/inspect.c). */
int cmd_restore(int argc, char **argv, struct vm *vm);
int cmd_inspect(int argc, char **argv);

#endif
