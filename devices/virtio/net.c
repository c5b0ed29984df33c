/* virtio-net: the tap backend, the transmit and receive paths, config space. */
#include "net.h"

#include "../../log.h"
#include "../../snapshot/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Feature bits (virtio 1.2, 5.1.3). */
#define NET_F_CSUM (1ull << 0)
#define NET_F_GUEST_CSUM (1ull << 1)
#define NET_F_MAC (1ull << 5)
#define NET_F_GUEST_TSO4 (1ull << 7)
#define NET_F_GUEST_TSO6 (1ull << 8)
#define NET_F_GUEST_ECN (1ull << 9)
#define NET_F_GUEST_UFO (1ull << 10)
#define NET_F_HOST_TSO4 (1ull << 11)
#define NET_F_HOST_TSO6 (1ull << 12)
#define NET_F_HOST_ECN (1ull << 13)
#define NET_F_HOST_UFO (1ull << 14)
#define NET_F_MRG_RXBUF (1ull << 15)
#define NET_F_STATUS (1ull << 16)

#define NET_GUEST_GSO (NET_F_GUEST_TSO4 | NET_F_GUEST_TSO6 | NET_F_GUEST_UFO)

/* struct virtio_net_hdr fields. */
#define HDR_FLAGS 0
#define HDR_GSO_TYPE 1
#define HDR_HDR_LEN 2
#define HDR_GSO_SIZE 4
#define HDR_CSUM_START 6
#define HDR_CSUM_OFFSET 8
#define HDR_NUM_BUFFERS 10
#define HDR_F_NEEDS_CSUM 1
#define HDR_F_DATA_VALID 2
#define GSO_NONE 0
#define GSO_TCPV4 1
#define GSO_UDP 3
#define GSO_TCPV6 4
#define GSO_ECN 0x80

#define STATUS_LINK_UP 1
#define RXQ 0
#define TXQ 1
#define RX_BUDGET 256 /* frames per round before the thread looks at its other events */
#define STD_FRAME (NET_HDR_LEN + 1518) /* Ethernet with a VLAN tag, no GSO */

/* ---- backend ---- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

int net_parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac[0] & 1)
		return -1; /* multicast */
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) ? 0 : -1;
}

/* Stable per tap name: FNV-1a, locally administered and unicast. */
static void mac_from_name(const char *name, uint8_t mac[6])
{
	uint64_t h = 1469598103934665603ull;
	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ull;
	mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}

static const char *tun_refusal(const char *name, int err, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/sys/class/net/%s", name);
	int exists = access(path, F_OK) == 0;
	if (err == EPERM || err == EACCES)
		snprintf(buf, len,
			 exists ? "not permitted to attach to it (%s): it belongs to another user"
				: "it does not exist and creating it is not permitted (%s): "
				  "needs CAP_NET_ADMIN, or create it first (ip tuntap add %s mode "
				  "tap user ...)",
			 strerror(err), name);
	else if (err == EBUSY)
		snprintf(buf, len, "it is in use by another process (%s)", strerror(err));
	else if (err == EINVAL && exists)
		snprintf(buf, len, "an interface of that name exists and is not a tap (%s)",
			 strerror(err));
	else
		snprintf(buf, len, "TUNSETIFF failed: %s", strerror(err));
	return buf;
}

static int valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (const char *c = s; *c; c++)
		if (*c == '/' || *c == ':' || (unsigned char)*c <= ' ' || *c == 0x7f)
			return 0;
	return 1;
}

/* Offloads the tap accepts, probed by setting them (then none until a driver asks). */
static uint64_t probe_offloads(int fd)
{
	uint64_t f = 0;
	if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM) == 0)
		f |= NET_F_CSUM | NET_F_GUEST_CSUM;
	if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) == 0)
		f |= NET_F_HOST_TSO4 | NET_F_HOST_TSO6 | NET_F_HOST_ECN | NET_F_GUEST_TSO4 |
		     NET_F_GUEST_TSO6 | NET_F_GUEST_ECN;
	if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_UFO) == 0)
		f |= NET_F_HOST_UFO | NET_F_GUEST_UFO;
	if (!(f & NET_F_CSUM))
		f = 0; /* every offload builds on checksums */
	ioctl(fd, TUNSETOFFLOAD, 0);
	return f;
}

void net_open(struct virtio_net *n, const char *name, const uint8_t *mac)
{
	struct net_backend *be = &n->be;
	char why[256];
	memset(be, 0, sizeof(*be));
	be->name = name;
	if (!valid_ifname(name))
		die_usage("--net tap=%s: not a valid interface name (1 to %d characters, no '/', "
			  "':' or spaces)",
			  name, IFNAMSIZ - 1);
	be->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (be->fd < 0)
		die_usage("--net tap=%s: cannot open /dev/net/tun: %s%s", name, strerror(errno),
			  errno == ENOENT ? " (is the tun module loaded?)" : "");
	unsigned int tf = 0;
	if (ioctl(be->fd, TUNGETFEATURES, &tf) < 0 || !(tf & IFF_VNET_HDR))
		die_usage("--net tap=%s: this kernel's tun driver has no vnet header support",
			  name);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(be->fd, TUNSETIFF, &ifr) < 0)
		die_usage("--net tap=%s: %s", name, tun_refusal(name, errno, why, sizeof(why)));
	int hdr = NET_HDR_LEN;
	if (ioctl(be->fd, TUNSETVNETHDRSZ, &hdr) < 0)
		die_usage("--net tap=%s: the tap refused a %d-byte vnet header: %s", name, hdr,
			  strerror(errno));
	be->features = NET_F_MAC | NET_F_STATUS | NET_F_MRG_RXBUF | probe_offloads(be->fd);
	if (mac)
		memcpy(be->mac, mac, 6);
	else
		mac_from_name(name, be->mac);
	n->bounce = malloc(NET_FRAME_MAX);
	if (!n->bounce)
		die("--net tap=%s: out of memory", name);
}

/* The driver's offloads tell the tap what it may hand us (once per activation). */
static void apply_offloads(struct virtio_net *n)
{
	if (n->offloads_set)
		return;
	pthread_mutex_lock(&n->dev.lock);
	uint64_t f = n->dev.driver_features;
	pthread_mutex_unlock(&n->dev.lock);
	unsigned int t = 0;
	if (f & NET_F_GUEST_CSUM) {
		t |= TUN_F_CSUM;
		t |= (f & NET_F_GUEST_TSO4) ? TUN_F_TSO4 : 0;
		t |= (f & NET_F_GUEST_TSO6) ? TUN_F_TSO6 : 0;
		t |= (f & NET_F_GUEST_ECN) && (t & (TUN_F_TSO4 | TUN_F_TSO6)) ? TUN_F_TSO_ECN : 0;
		t |= (f & NET_F_GUEST_UFO) ? TUN_F_UFO : 0;
	}
	if (ioctl(n->be.fd, TUNSETOFFLOAD, t) < 0 && !n->tap_lost)
		vmm_log("%s: tap %s refused offloads 0x%x (%s); the guest may get frames it cannot "
			"take",
			n->dev.label, n->be.name, t, strerror(errno));
	n->offloads_set = 1;
}

/*
 * The tap failed for good (its interface was deleted: EBADFD): one log line,
 * the tap leaves the wait set (a dead tap polls as an error forever), and
 * from now on frames are dropped as on a cable that was pulled.
 */
static void tap_lost(struct virtio_net *n, const char *op, int err)
{
	if (n->tap_lost)
		return;
	n->tap_lost = 1;
	vmm_log("%s: %s tap %s failed (%s); its frames are dropped from now on", n->dev.label, op,
		n->be.name, strerror(err));
	virtio_drop_backend(&n->dev);
}

/* ---- transmit ---- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Check a transmit header against the frame and the negotiated features. */
static int tx_header_ok(const uint8_t *h, size_t frame, uint64_t f, char *err, size_t len)
{
	uint8_t flags = h[HDR_FLAGS], gso = h[HDR_GSO_TYPE];
	if (flags & ~(HDR_F_NEEDS_CSUM | HDR_F_DATA_VALID)) {
		snprintf(err, len, "transmit header flags 0x%x unknown", flags);
		return 0;
	}
	if (flags & HDR_F_NEEDS_CSUM) {
		uint32_t start = get16(h + HDR_CSUM_START), off = get16(h + HDR_CSUM_OFFSET);
		if (!(f & NET_F_CSUM)) {
			snprintf(err, len, "checksum offload requested without VIRTIO_NET_F_CSUM");
			return 0;
		}
		if (start + off + 2 > frame) {
			snprintf(err, len, "checksum at %u+%u outside the %zu-byte frame", start,
				 off, frame);
			return 0;
		}
	}
	uint8_t type = gso & (uint8_t)~GSO_ECN;
	uint64_t need = type == GSO_TCPV4   ? NET_F_HOST_TSO4
			: type == GSO_TCPV6 ? NET_F_HOST_TSO6
			: type == GSO_UDP   ? NET_F_HOST_UFO
					    : 0;
	if (type != GSO_NONE && (!need || !(f & need))) {
		snprintf(err, len, "segmentation type %u not negotiated", gso);
		return 0;
	}
	if ((gso & GSO_ECN) && (type == GSO_NONE || !(f & NET_F_HOST_ECN))) {
		snprintf(err, len, "segmentation with ECN (type 0x%x) not negotiated", gso);
		return 0;
	}
	if (type != GSO_NONE && (!(flags & HDR_F_NEEDS_CSUM) || get16(h + HDR_GSO_SIZE) == 0)) {
		snprintf(err, len, "segmentation without a checksum request or a segment size");
		return 0;
	}
	return 1;
}

int net_tx_chain(struct virtio_dev *d, struct vchain *c, uint32_t *written)
{
	struct virtio_net *n = (struct virtio_net *)d;
	char err[160];
	*written = 0;
	if (c->nin) {
		virtio_fault(d, "transmit chain has %d device-writable buffers", c->nin);
		return -1;
	}
	if (c->out_len < NET_HDR_LEN || c->out_len > NET_FRAME_MAX) {
		virtio_fault(d, "transmit chain of %zu bytes (header %d, at most %d)", c->out_len,
			     NET_HDR_LEN, NET_FRAME_MAX);
		return -1;
	}
	/* One private copy of the header: what is checked is what the tap gets. */
	uint8_t hdr[NET_HDR_LEN];
	iov_to_buf(c->out, c->nout, 0, hdr, NET_HDR_LEN);
	if (!tx_header_ok(hdr, c->out_len - NET_HDR_LEN, d->driver_features, err, sizeof(err))) {
		virtio_fault(d, "%s", err);
		return -1;
	}
	struct iovec iov[VIRTQ_MAX_SEGS + 1];
	iov[0] = (struct iovec){hdr, NET_HDR_LEN};
	int k = iov_slice(c->out, c->nout, NET_HDR_LEN, c->out_len - NET_HDR_LEN, iov + 1,
			  VIRTQ_MAX_SEGS);
	ssize_t r;
	do
		r = writev(n->be.fd, iov, k + 1);
	while (r < 0 && errno == EINTR);
	/* A tap that is down (EIO), full (EAGAIN) or refuses the frame drops it, as a wire would.
	 */
	if (r < 0 && errno != EIO && errno != EAGAIN && errno != EINVAL && errno != ENOBUFS &&
	    errno != ENOMEM)
		tap_lost(n, "writing to", errno);
	if (r < 0)
		n->tx_dropped++;
	return 0;
}

/* ---- receive ---- */

static int mrg(const struct virtio_net *n)
{
	return !!(n->dev.driver_features & NET_F_MRG_RXBUF);
}

/* Bytes a frame may need: a GSO frame when the guest takes them, else one MTU frame. */
static size_t rx_need(const struct virtio_net *n)
{
	if (!mrg(n))
		return 1; /* one chain per frame, sized by the driver */
	return (n->dev.driver_features & NET_GUEST_GSO) ? NET_FRAME_MAX : STD_FRAME;
}

enum { FILL_FAULT = -1, FILL_EMPTY, FILL_FULL, FILL_LIMIT };

/*
 * Take receive chains until the slots hold need bytes. Returns FILL_FULL
 * when they do, FILL_EMPTY when the ring ran out first, FILL_LIMIT when the
 * slots or iovecs did, FILL_FAULT after a fault.
 */
static int rx_fill(struct virtio_net *n, size_t need)
{
	static __thread struct vchain c;
	struct virtio_dev *d = &n->dev;
	struct virtq *q = &d->q[RXQ];
	char err[160];
	while (n->cached < need) {
		if (n->nslots == VIRTQ_MAX_SIZE)
			return FILL_LIMIT;
		int r = virtq_pop(q, d->mem, &c, err, sizeof(err));
		if (r < 0) {
			virtio_fault(d, "receive queue: %s", err);
			return FILL_FAULT;
		}
		if (r == 0)
			return FILL_EMPTY;
		if (c.nout || c.in_len < NET_HDR_LEN) {
			virtio_fault(
			    d,
			    "receive chain with %d device-readable buffers and %zu writable bytes "
			    "(needs 0 and at least %d)",
			    c.nout, c.in_len, NET_HDR_LEN);
			return FILL_FAULT;
		}
		if (n->niov + (uint32_t)c.nin > NET_RX_IOV) {
			virtq_unpop(q, 1);
			return FILL_LIMIT;
		}
		struct net_rx_slot *s = &n->slots[n->nslots++];
		*s = (struct net_rx_slot){c.head, (uint16_t)c.nin, n->niov, c.in_len};
		memcpy(&n->iov[n->niov], c.in, sizeof(struct iovec) * (size_t)c.nin);
		n->niov += (uint32_t)c.nin;
		n->cached += c.in_len;
	}
	return FILL_FULL;
}

/* Publish a frame of len bytes that now sits in the first slots. */
static void rx_publish(struct virtio_net *n, size_t len)
{
	struct virtq *q = &n->dev.q[RXQ];
	int used = 0;
	size_t left = len;
	do {
		struct net_rx_slot *s = &n->slots[used++];
		size_t take = left < s->len ? left : s->len;
		left -= take;
	} while (left && mrg(n));
	uint8_t nb[2] = {(uint8_t)used, (uint8_t)(used >> 8)};
	buf_to_iov(n->iov, (int)n->slots[0].niov, HDR_NUM_BUFFERS, nb, 2);
	left = len;
	for (int i = 0; i < used; i++) {
		size_t take = left < n->slots[i].len ? left : n->slots[i].len;
		virtq_push(q, n->slots[i].head, (uint32_t)take);
		left -= take;
	}
	/* Drop the used slots; the rest move to the front. */
	uint32_t first = used < n->nslots ? n->slots[used].first : n->niov;
	for (int i = 0; i < used; i++)
		n->cached -= n->slots[i].len;
	for (int i = used; i < n->nslots; i++) {
		n->slots[i - used] = n->slots[i];
		n->slots[i - used].first -= first;
	}
	n->nslots -= used;
	memmove(n->iov, n->iov + first, sizeof(struct iovec) * (n->niov - first));
	n->niov -= first;
}

/* How many iovecs of the first slots cover need bytes (all slots at most); their bytes in *room. */
static int rx_iovs(const struct virtio_net *n, size_t need, size_t *room)
{
	size_t have = 0;
	int s = 0;
	while (s < n->nslots && have < need)
		have += n->slots[s++].len;
	*room = have;
	return s == n->nslots ? (int)n->niov : (int)n->slots[s].first;
}

/* Read one frame from the tap into iov (k entries); returns its length, 0 if none. */
static ssize_t tap_read(struct virtio_net *n, const struct iovec *iov, int k)
{
	ssize_t r;
	if (n->tap_lost)
		return 0;
	do
		r = readv(n->be.fd, iov, k);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno != EAGAIN)
		tap_lost(n, "reading from", errno);
	return r < 0 ? 0 : r;
}

enum rx_step { RX_MORE, RX_DRAINED, RX_STARVED, RX_FAULT };

/* Move one frame from the tap (or the bounce buffer) into the guest. */
static enum rx_step rx_one(struct virtio_net *n)
{
	size_t need = n->pending ? n->pending : rx_need(n);
	int fill = rx_fill(n, need);
	if (fill == FILL_FAULT)
		return RX_FAULT;
	if (n->pending) {
		if (fill == FILL_EMPTY)
			return RX_STARVED;
		if (fill == FILL_FULL)
			buf_to_iov(n->iov, (int)n->niov, 0, n->bounce, n->pending);
		if (fill == FILL_FULL)
			rx_publish(n, n->pending);
		else
			n->rx_dropped++; /* the driver's buffers are too small to ever hold it */
		n->pending = 0;
		return RX_MORE;
	}
	if (n->nslots == 0)
		return RX_STARVED;
	if (fill != FILL_EMPTY || !mrg(n)) {
		/* Straight into guest memory. */
		size_t room = n->slots[0].len;
		int k = mrg(n) ? rx_iovs(n, need, &room) : (int)n->slots[0].niov;
		ssize_t len = tap_read(n, n->iov, k);
		if (len == 0)
			return RX_DRAINED;
		if ((size_t)len > room || len < NET_HDR_LEN) {
			n->rx_dropped++; /* truncated by the tap: larger than the driver's buffers
					  */
			return RX_MORE;
		}
		rx_publish(n, (size_t)len);
		return RX_MORE;
	}
	/* Fewer buffers than a frame may need: read it aside; the next step places it. */
	struct iovec b = {n->bounce, NET_FRAME_MAX};
	ssize_t len = tap_read(n, &b, 1);
	if (len == 0)
		return RX_DRAINED;
	if (len < NET_HDR_LEN)
		n->rx_dropped++;
	else
		n->pending = (size_t)len;
	return RX_MORE;
}

/* Receive until the tap is drained, the guest's buffers run out, or the budget is spent. */
static void rx_round(struct virtio_net *n)
{
	struct virtio_dev *d = &n->dev;
	struct virtq *q = &d->q[RXQ];
	if (!q->ready) {
		virtio_poll_backend(d, 0);
		return;
	}
	apply_offloads(n);
	uint16_t before = q->used_idx;
	enum rx_step st = RX_MORE;
	for (int budget = RX_BUDGET; budget > 0 && st != RX_FAULT; budget--) {
		st = rx_one(n);
		if (st == RX_DRAINED) {
			virtio_poll_backend(d, 1);
			break;
		}
		if (st == RX_STARVED) {
			/* Ask for a kick when buffers come; wait for it, not for the tap. */
			if (virtq_enable_kicks(q)) {
				st = RX_MORE;
				continue;
			}
			virtio_poll_backend(d, 0);
			break;
		}
	}
	if (st == RX_FAULT) {
		n->nslots = 0;
		n->niov = 0;
		n->cached = 0;
		return;
	}
	if (st == RX_MORE)
		virtio_poll_backend(d, 1); /* budget spent: come back through the loop */
	/* Chains taken but not used go back to the ring for the next round. */
	virtq_unpop(q, (uint16_t)n->nslots);
	n->nslots = 0;
	n->niov = 0;
	n->cached = 0;
	if (q->used_idx != before)
		virtio_notify(d, q);
}

/* ---- device ops ---- */

static void net_process(struct virtio_dev *d, int qi)
{
	struct virtio_net *n = (struct virtio_net *)d;
	if (qi == RXQ) {
		virtio_poll_backend(d, 1); /* new buffers: the tap may be read again */
		rx_round(n);
	} else if (qi == TXQ) {
		apply_offloads(n);
		virtio_serve(d, qi, net_tx_chain);
	}
}

static void net_backend_ready(struct virtio_dev *d)
{
	rx_round((struct virtio_net *)d);
}

static void net_reset(struct virtio_dev *d)
{
	struct virtio_net *n = (struct virtio_net *)d;
	n->nslots = 0;
	n->niov = 0;
	n->cached = 0;
	n->pending = 0;
	n->offloads_set = 0;
}

/* Config space (virtio 1.2, 5.1.4): mac, then status. */
static void net_config_read(struct virtio_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
	struct virtio_net *n = (struct virtio_net *)d;
	uint8_t cfg[8];
	memcpy(cfg, n->be.mac, 6);
	cfg[6] = STATUS_LINK_UP;
	cfg[7] = 0;
	memset(data, 0, len);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, off + len <= sizeof(cfg) ? len : sizeof(cfg) - off);
}

/*
 * Snapshot: the MAC the guest saw. A frame read from the tap but not yet
 * delivered is not kept: to the guest it is a frame lost on the wire.
 */
static void net_save(struct virtio_dev *d, struct unit_writer *w)
{
	struct virtio_net *n = (struct virtio_net *)d;
	uw_bytes(w, n->be.mac, 6);
}

static int net_load(struct virtio_dev *d, struct unit_reader *r, uint32_t version)
{
	struct virtio_net *n = (struct virtio_net *)d;
	uint8_t mac[6];
	if (version != 1)
		return -1;
	ur_bytes(r, mac, 6);
	if (r->failed || (mac[0] & 1))
		return -1;
	memcpy(n->be.mac, mac, 6);
	net_reset(d);
	return 0;
}

const struct virtio_dev_ops virtio_net_ops = {
    .name = "virtio-net",
    .device_id = 1,
    .nqueues = 2,
    .config_read = net_config_read,
    .process = net_process,
    .reset = net_reset,
    .backend_ready = net_backend_ready,
    .state_version = 1,
    .save = net_save,
    .load = net_load,
};
