/*
 * The heartbeat device's register map (DESIGN.md), shared by the device model
 * and by the guest-side code (guest/tool/vmm-guest.c, tests/guests). 32-bit
 * little-endian registers in one 4 KiB MMIO page.
 */
#ifndef VMM_HEARTBEAT_REGS_H
#define VMM_HEARTBEAT_REGS_H

#define HB_BASE_ADDR 0xd0000000u
#define HB_MAGIC 0x00
#define HB_VERSION 0x04
#define HB_INTERVAL_MS 0x08
#define HB_TIMEOUT_MS 0x0c
#define HB_CONTROL 0x10
#define HB_BEAT 0x14
#define HB_STATUS 0x18
#define HB_READY 0x1c
#define HB_EXIT 0x20
#define HB_SESSION_LO 0x24
#define HB_SESSION_HI 0x28
#define HB_HOST_TIME_LO 0x2c
#define HB_HOST_TIME_HI 0x30

#define HB_MAGIC_VALUE 0x31544248 /* "HBT1" */
#define HB_CONTROL_ENABLE 0x1
#define HB_STATUS_ACTIVE 0x1
#define HB_STATUS_FLATLINED 0x2

#endif
