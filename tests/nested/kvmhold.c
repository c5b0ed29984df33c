/*
 * kvmhold: keeps one idle KVM VM (in-kernel irqchip, one vCPU that never
 * runs) alive for the whole life of the nested tier's L1.
 *
 * Why: the first VM on a host turns on kernel static keys (the preempt
 * notifier key, the LAPIC's "software disabled" key) and the last one to go
 * turns them off again. Each flip rewrites kernel text through int3-based
 * patching (text_poke_bp), and under QEMU's multi-threaded TCG that patching
 * once left L1 livelocked: one vCPU looping through exc_int3 in __schedule,
 * the other spinning on a lock, no progress for minutes. With this VM always
 * holding a reference, the VMs under test never flip those keys, so L1's text
 * is patched once at start-up and never while checks run.
 *
 * Prints "kvmhold: holding" once the VM exists, then sleeps until killed.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int fail(const char *what)
{
	perror(what);
	return 1;
}

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("kvmhold: open /dev/kvm");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("kvmhold: KVM_CREATE_VM");
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail("kvmhold: KVM_CREATE_IRQCHIP");
	if (ioctl(vm, KVM_CREATE_VCPU, 0) < 0)
		return fail("kvmhold: KVM_CREATE_VCPU");
	printf("kvmhold: holding\n");
	fflush(stdout);
	for (;;)
		pause();
}
