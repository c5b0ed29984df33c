/*
 * virtio-net over a Linux tap device. Frames pass between the guest's rings
 * and the tap with the 12-byte virtio-net header as the tap's own vnet
 * header (IFF_VNET_HDR), so checksum and segmentation offloads are handed
 * through instead of done here, and receive reads go straight into guest
 * buffers when the driver has given enough of them.
 */
#ifndef VMM_VIRTIO_NET_H
#define VMM_VIRTIO_NET_H

#include "mmio.h"

#include <stdint.h>
#include <sys/uio.h>

#define NET_HDR_LEN 12 /* struct virtio_net_hdr with num_buffers (VERSION_1) */
/*
 * Largest frame with its header: an IPv6 GSO packet (40-byte header plus a
 * 64 KiB payload) behind Ethernet and a VLAN tag.
 */
#define NET_FRAME_MAX (NET_HDR_LEN + 18 + 40 + 65535)
#define NET_RX_IOV 1024 /* UIO_MAXIOV: what one readv takes */

struct net_backend {
	const char *name; /* the tap's interface name, as given */
	int fd;		  /* /dev/net/tun attached to it, non-blocking */
	uint8_t mac[6];
	uint64_t features; /* device features the tap makes possible */
};

/* A receive chain taken from the ring, not yet used. */
struct net_rx_slot {
	uint16_t head;
	uint16_t niov; /* its writable buffers: iov[first .. first + niov) */
	uint32_t first;
	size_t len;
};

struct virtio_net {
	struct virtio_dev dev; /* first: the transport hands us &dev */
	struct net_backend be;
	/* I/O thread state (reset under the transport's io_lock). */
	struct net_rx_slot slots[VIRTQ_MAX_SIZE]; /* popped receive chains, in ring order */
	int nslots;
	struct iovec iov[NET_RX_IOV]; /* the slots' buffers, back to back */
	uint32_t niov;
	size_t cached;	  /* bytes the slots hold */
	uint8_t *bounce;  /* NET_FRAME_MAX: a frame read before buffers were there */
	size_t pending;	  /* length of the frame waiting in bounce, 0 if none */
	int offloads_set; /* TUNSETOFFLOAD done for the negotiated features */
	int tap_lost;	  /* the tap failed for good: frames are dropped */
	uint64_t rx_dropped, tx_dropped;
};

/*
 * Parse a MAC address "xx:xx:xx:xx:xx:xx" into mac. Returns 0, or -1 when
 * malformed, multicast or all zero.
 */
int net_parse_mac(const char *s, uint8_t mac[6]);

/*
 * Open tap name for a --net (creating it when missing and permitted) with a
 * 12-byte vnet header, probe its offloads, and pick the MAC: mac, or one
 * derived from the name (locally administered, stable) when mac is NULL.
 * Any problem exits with status 2 and a line naming the tap and the reason.
 */
void net_open(struct virtio_net *n, const char *name, const uint8_t *mac);

extern const struct virtio_dev_ops virtio_net_ops;

/*
 * Handle one transmit chain (exposed for the fuzz target): check the header
 * and the chain, write the frame to the tap. Returns 0, or -1 after
 * virtio_fault().
 */
int net_tx_chain(struct virtio_dev *d, struct vchain *c, uint32_t *written);

#endif
