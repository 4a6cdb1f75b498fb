/* SPDX-License-Identifier: MIT */
/*
 * vpio/evtchn_pair.h - the broker side of the host event-channel driver:
 * creating a channel's two links (see vpio/evtchn.h for the drawing).
 * dom0 only; guests receive their ends and never create them.
 */
#ifndef VPIO_EVTCHN_PAIR_H
#define VPIO_EVTCHN_PAIR_H

#include "vpio/evtchn.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Creates the two links of a channel and fills each side's ends. Every
 * descriptor is O_NONBLOCK and O_CLOEXEC; each link is shut down in the
 * direction it does not carry (a side cannot write into its rx end), and
 * its send buffer is kept small (a few notifications fill it: they
 * coalesce). Each side starts with one notification pending, as a freshly
 * bound Xen port does.
 *   0, or -EMFILE/-ENFILE/-ENOMEM/-errno with nothing left open.
 */
int evtchn_host_pair(struct evtchn_end *a, struct evtchn_end *b);

/* Closes both descriptors of one side (those >= 0) and sets them to -1. */
void evtchn_host_close_end(struct evtchn_end *e);

#ifdef __cplusplus
}
#endif

#endif /* VPIO_EVTCHN_PAIR_H */
