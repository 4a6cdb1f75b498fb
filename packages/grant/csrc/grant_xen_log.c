/* SPDX-License-Identifier: MIT */
/*
 * grant_xen_log.c - a xentoollog logger that drops every message, for the
 * xen grant driver (see grant_xen_log.h). libxengnttab asserts that
 * vmessage is set and never destroys a logger the caller passed in.
 */
#include <stdarg.h>
#include <xentoollog.h>

#include "grant_xen_log.h"

static void quiet_vmessage(struct xentoollog_logger *logger, xentoollog_level level, int errnoval,
			   const char *context, const char *format, va_list al)
{
	(void)logger;
	(void)level;
	(void)errnoval;
	(void)context;
	(void)format;
	(void)al;
}

static void quiet_destroy(struct xentoollog_logger *logger)
{
	(void)logger;
}

static struct xentoollog_logger quiet = {
	.vmessage = quiet_vmessage,
	.progress = NULL,
	.destroy = quiet_destroy,
};

struct xentoollog_logger *vgnt_xen_quiet_logger(void)
{
	return &quiet;
}
