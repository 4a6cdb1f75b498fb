// SPDX-License-Identifier: MIT
//
// vnet.c - the TAP's virtio_net_hdr <-> the ring's per-slot offload word
// (vpio/ring.h struct vring_offload: virtio-net semantics, 8 bytes).
//
//   virtio_net_hdr             offload word
//   flags NEEDS_CSUM           oflags VRING_OFL_NEEDS_CSUM
//   flags DATA_VALID           (dropped: a hint for the receiver only)
//   gso_type TCPV4 / TCPV6     gso_type VRING_GSO_TCPV4 / _TCPV6
//   gso_type UDP_L4            VRING_GSO_UDP_L4 (only towards the TAP: we
//                              never turn on USO, so the kernel sends none)
//   gso_size, csum_start,      the same fields
//   csum_offset
//   hdr_len                    not carried: computed on the way to the TAP
//                              (Ethernet + IP + TCP headers when the first
//                              fragment holds them; a hint for the kernel)
//
// The TAP's header comes from the guest's own kernel, the offload word from
// the switch (which validated it, but the ring memory is shared): both are
// checked here anyway. Pure functions, no syscalls.

#include <string.h>

#include "lnf.h"

int lnf_vnet_to_offload(const struct lnf_vnet_hdr *h, uint32_t len, struct vring_offload *o)
{
	uint8_t flags = h->flags & (uint8_t)~LNF_VNET_F_DATA_VALID;

	memset(o, 0, sizeof(*o));
	if (flags & ~LNF_VNET_F_NEEDS_CSUM)
		return -1;
	switch (h->gso_type) {
	case LNF_VNET_GSO_NONE: break;
	case LNF_VNET_GSO_TCPV4: o->gso_type = VRING_GSO_TCPV4; break;
	case LNF_VNET_GSO_TCPV6: o->gso_type = VRING_GSO_TCPV6; break;
	default: return -1; /* ECN, UDP and anything else: never offered to this TAP */
	}
	if (flags & LNF_VNET_F_NEEDS_CSUM) {
		o->oflags = VRING_OFL_NEEDS_CSUM;
		o->csum_start = h->csum_start;
		o->csum_offset = h->csum_offset;
	}
	if (o->gso_type != VRING_GSO_NONE)
		o->gso_size = h->gso_size;
	if (!o->oflags && o->gso_type == VRING_GSO_NONE)
		return 0;
	return vring_check_offload(o, len) == VRING_OK ? 1 : -1;
}

void lnf_offload_to_vnet(const struct vring_offload *o, const uint8_t *first, uint32_t first_len, uint32_t len,
			 struct lnf_vnet_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (!o)
		return;
	if (o->oflags & VRING_OFL_NEEDS_CSUM) {
		uint32_t hl = (uint32_t)o->csum_start + o->csum_offset + 2u;

		h->flags = LNF_VNET_F_NEEDS_CSUM;
		h->csum_start = o->csum_start;
		h->csum_offset = o->csum_offset;
		/* TCP: the data offset (byte 12 of the TCP header, high nibble) ends the headers */
		if (o->gso_type != VRING_GSO_NONE && o->gso_type != VRING_GSO_UDP_L4 && (uint32_t)o->csum_start + 13u <= first_len) {
			uint32_t end = (uint32_t)o->csum_start + 4u * (first[o->csum_start + 12u] >> 4);
			if (end > hl && end <= len)
				hl = end;
		}
		h->hdr_len = (uint16_t)hl;
	}
	switch (o->gso_type) {
	case VRING_GSO_TCPV4: h->gso_type = LNF_VNET_GSO_TCPV4; break;
	case VRING_GSO_TCPV6: h->gso_type = LNF_VNET_GSO_TCPV6; break;
	case VRING_GSO_UDP_L4: h->gso_type = LNF_VNET_GSO_UDP_L4; break;
	default: break;
	}
	if (h->gso_type != LNF_VNET_GSO_NONE)
		h->gso_size = o->gso_size;
}
