/* SPDX-License-Identifier: MIT */
/* classes.c - the table of built-in element classes. */
#include "element.h"

extern const struct mo_class mo_class_from_netfront, mo_class_to_netfront, mo_class_counter, mo_class_sink,
	mo_class_ether_mirror, mo_class_ether_rewrite, mo_class_classifier, mo_class_ipfilter, mo_class_arp_responder,
	mo_class_icmp_ping_responder, mo_class_icmp6_responder, mo_class_pktgen, mo_class_pinger;

const struct mo_class *const mo_builtin_classes[] = {
	&mo_class_from_netfront, &mo_class_to_netfront, &mo_class_counter, &mo_class_sink,
	&mo_class_ether_mirror, &mo_class_ether_rewrite, &mo_class_classifier, &mo_class_ipfilter,
	&mo_class_arp_responder, &mo_class_icmp_ping_responder, &mo_class_icmp6_responder, &mo_class_pktgen,
	&mo_class_pinger, NULL,
};
