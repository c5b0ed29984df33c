# vmm: static musl build. `make` builds build/vmm; build.sh drives everything.
CC_MUSL ?= musl-gcc
BUILD ?= build
WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS_COMMON = -std=gnu11 $(WARN) -D_GNU_SOURCE
CFLAGS_VMM = $(CFLAGS_COMMON) -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
	-fno-stack-protector -pthread
LDFLAGS_VMM = -static -Wl,--gc-sections -Wl,-z,norelro -Wl,--build-id=none -s

SRCS = vmm.c cli.c kvm.c vcpu.c eventloop.c actions.c api.c log.c memory.c \
	boot/loader.c boot/bzimage.c boot/elf.c boot/bootparams.c boot/mptable.c \
	devices/bus.c devices/serial.c devices/i8042.c devices/ib700.c devices/pseudo/heartbeat.c \
	devices/virtio/virtq.c devices/virtio/mmio.c devices/virtio/blk.c devices/virtio/blk_pool.c devices/virtio/rng.c devices/virtio/net.c \
	snapshot/unit.c snapshot/digest.c snapshot/sha256_ni.c snapshot/parse.c snapshot/machine.c \
	snapshot/kvmstate.c snapshot/writer.c snapshot/restore.c snapshot/lazy.c snapshot/inspect.c \
	seccomp/seccomp.c
HDRS = $(wildcard *.h boot/*.h devices/*.h devices/*/*.h snapshot/*.h seccomp/*.h)

# BearSSL (hash and HMAC only), from Debian's source package, built for musl and
# cached by snapshot/build-bearssl.sh; $(BEARSSL) is a symlink to the cache entry.
BEARSSL = $(BUILD)/bearssl
BEARSSL_LIB = $(BEARSSL)/libbearssl.a
BEARSSL_INC = -I$(BEARSSL)/inc
# The same sources for the host-compiler (sanitizer) builds of tests and fuzzers.
BEARSSL_SRCS = $(addprefix $(BEARSSL)/src/,hash/sha2small.c mac/hmac.c codec/dec32be.c codec/enc32be.c)

all: $(BUILD)/vmm $(BUILD)/vmm-test $(BUILD)/firsttime $(BUILD)/iobench $(BUILD)/netbench $(BUILD)/guest/vmm-guest $(BUILD)/kvmhold

# musl-gcc searches only musl's headers: give it the kernel's UAPI headers.
KINC = $(BUILD)/kinc
$(KINC)/.done:
	@mkdir -p $(KINC)
	ln -sfn /usr/include/linux $(KINC)/linux
	ln -sfn /usr/include/asm-generic $(KINC)/asm-generic
	ln -sfn /usr/include/x86_64-linux-gnu/asm $(KINC)/asm
	@touch $@

# seccomp: allow-lists compiled to BPF at build time with the host's libseccomp.
SECCOMP_RULES = $(wildcard seccomp/allow_*.c)
$(BUILD)/seccomp_gen: seccomp/gen.c seccomp/rules.h $(SECCOMP_RULES)
	@mkdir -p $(BUILD)
	@echo "  SECCOMP-GEN $@"; gcc $(CFLAGS_COMMON) -O1 -o $@ seccomp/gen.c $(SECCOMP_RULES) -lseccomp

$(BUILD)/seccomp_bpf.c: $(BUILD)/seccomp_gen
	$(BUILD)/seccomp_gen >$@.tmp && mv $@.tmp $@

$(BEARSSL_LIB) $(BEARSSL_SRCS) &:
	snapshot/build-bearssl.sh $(BEARSSL)

$(BUILD)/vmm: $(SRCS) $(HDRS) Makefile $(KINC)/.done $(BUILD)/seccomp_bpf.c $(BEARSSL_LIB)
	@echo "  CC $@"; $(CC_MUSL) $(CFLAGS_VMM) -isystem $(KINC) -I. $(BEARSSL_INC) -o $@ $(SRCS) $(BUILD)/seccomp_bpf.c \
		$(BEARSSL_LIB) $(LDFLAGS_VMM)

# The same binary with test-only hooks (VMM_TEST_FORBIDDEN), not stripped; never shipped.
$(BUILD)/vmm-test: $(SRCS) $(HDRS) Makefile $(KINC)/.done $(BUILD)/seccomp_bpf.c $(BEARSSL_LIB)
	@echo "  CC $@"; $(CC_MUSL) $(CFLAGS_VMM) -DVMM_TEST_HOOKS -isystem $(KINC) -I. $(BEARSSL_INC) -o $@ $(SRCS) \
		$(BUILD)/seccomp_bpf.c $(BEARSSL_LIB) -static -Wl,--gc-sections

clean:
	rm -rf $(BUILD)

.PHONY: all clean

# ---- tiny test guests (freestanding, integer-only: PVM emulates every instruction) ----
GUESTS64 = hello bootparams triplefault i8042 heartbeat echo smp spin watchdog hbmon virtio counter
GUESTS32 = pvh32 bootbench restorebench
GUEST_CFLAGS = -ffreestanding -fno-pic -fno-pie -no-pie -fno-stack-protector -nostdlib -static \
	-mno-red-zone -mgeneral-regs-only -O2 -Wall -Wextra -Werror -fno-asynchronous-unwind-tables \
	-Wl,-T,tests/guests/lib/guest.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments
GUEST_LIB = tests/guests/lib/guest.h tests/guests/lib/guest.ld devices/pseudo/heartbeat_regs.h
GUEST_ELFS = $(GUESTS64:%=$(BUILD)/tests/guests/%.elf) $(GUESTS32:%=$(BUILD)/tests/guests/%.elf)

guests: $(GUEST_ELFS)

$(GUESTS64:%=$(BUILD)/tests/guests/%.elf): $(BUILD)/tests/guests/%.elf: tests/guests/%/guest.c tests/guests/lib/start64.S $(GUEST_LIB)
	@mkdir -p $(dir $@)
	@echo "  GUEST $@"; gcc -m64 $(GUEST_CFLAGS) -o $@ tests/guests/lib/start64.S $<

$(GUESTS32:%=$(BUILD)/tests/guests/%.elf): $(BUILD)/tests/guests/%.elf: tests/guests/%/guest.c tests/guests/lib/start32.S $(GUEST_LIB)
	@mkdir -p $(dir $@)
	@echo "  GUEST $@"; gcc -m32 $(GUEST_CFLAGS) -o $@ tests/guests/lib/start32.S $<

.PHONY: guests

# ---- unit tests and fuzz targets (host compiler, sanitizers) ----
CC_TEST ?= gcc
SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# BearSSL's own sources include "inner.h" from its src/ directory.
UNIT_INC = -I. $(BEARSSL_INC) -I$(BEARSSL)/src
UNIT_LIB = memory.c log.c api.c cli.c boot/loader.c boot/bzimage.c boot/elf.c \
	boot/bootparams.c boot/mptable.c devices/bus.c devices/serial.c devices/i8042.c devices/ib700.c \
	devices/pseudo/heartbeat.c snapshot/unit.c snapshot/digest.c snapshot/sha256_ni.c snapshot/parse.c \
	snapshot/machine.c snapshot/kvmstate.c kvm.c devices/virtio/virtq.c \
	devices/virtio/mmio.c devices/virtio/blk.c devices/virtio/blk_pool.c devices/virtio/rng.c devices/virtio/net.c \
	seccomp/seccomp.c \
	$(BUILD)/seccomp_bpf.c $(BEARSSL_SRCS)
UNIT_TESTS = $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))

unit: $(UNIT_TESTS)

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/check.h tests/unit/images.h $(UNIT_LIB) $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  UNIT $@"; $(CC_TEST) $(CFLAGS_COMMON) $(UNIT_INC) -g -O1 $(SAN) -pthread -o $@ $< $(UNIT_LIB)

FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,$(BUILD)/tests/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

fuzz: $(FUZZ_TARGETS)

$(BUILD)/tests/fuzz/%: tests/fuzz/%.c $(UNIT_LIB) $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ $@"; clang $(CFLAGS_COMMON) -Wno-unused-command-line-argument -Wno-gnu-variable-sized-type-not-at-end -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -pthread $(UNIT_INC) \
		-o $@ $< $(UNIT_LIB)

.PHONY: unit fuzz

# ---- benchmark helper (static, so it also runs inside the nested tier's L1) ----
$(BUILD)/firsttime: bench/firsttime.c $(KINC)/.done
	$(CC_MUSL) -O2 -static -s -o $@ $<

bench-tools: $(BUILD)/firsttime $(BUILD)/iobench $(BUILD)/netbench

# Holds one idle VM open in the nested tier's L1 (see the file for why).
$(BUILD)/kvmhold: tests/nested/kvmhold.c $(KINC)/.done
	@echo "  CC $@"; $(CC_MUSL) -std=gnu11 $(WARN) -Os -static -s -isystem $(KINC) -o $@ $<

# The guest side of the heartbeat device, for the bundled Linux guest's initramfs.
$(BUILD)/guest/vmm-guest: guest/tool/vmm-guest.c devices/pseudo/heartbeat_regs.h $(KINC)/.done
	@mkdir -p $(dir $@)
	@echo "  CC $@"; $(CC_MUSL) -std=gnu11 $(WARN) -Os -static -s -isystem $(KINC) -o $@ $<

guest-tool: $(BUILD)/guest/vmm-guest
.PHONY: guest-tool
.PHONY: bench-tools

$(BUILD)/iobench: bench/iobench.c $(KINC)/.done
	@echo "  CC $@"; $(CC_MUSL) -std=gnu11 $(WARN) -O2 -static -s -pthread -isystem $(KINC) -o $@ $<

$(BUILD)/netbench: bench/netbench.c $(KINC)/.done
	@echo "  CC $@"; $(CC_MUSL) -std=gnu11 $(WARN) -O2 -static -s -isystem $(KINC) -o $@ $<
