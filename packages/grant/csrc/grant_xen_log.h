/* SPDX-License-Identifier: MIT */
/*
 * grant_xen_log.h - internal to the xen grant driver: the logger handed to
 * xengnttab_open()/xengntshr_open(). It drops every message: the driver
 * reports failures as errno values, and libxengnttab's default logger would
 * print "ioctl failed" lines on the caller's stderr (vpiod's, a guest's).
 */
#ifndef VPIO_GRANT_XEN_LOG_H
#define VPIO_GRANT_XEN_LOG_H

struct xentoollog_logger;

/* The silent logger (static storage, never destroyed). */
struct xentoollog_logger *vgnt_xen_quiet_logger(void);

#endif /* VPIO_GRANT_XEN_LOG_H */
