/* SPDX-License-Identifier: MIT */
/* errno.c - the one errno (see errno.h for why a plain global is enough). */
#include <errno.h>

int errno;
