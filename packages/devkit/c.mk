# c.mk: the C build settings every vpio package shares.
#
# Include it from a package Makefile:
#     include ../devkit/c.mk
# (turbo hashes this file into every build, so changing a flag rebuilds all.)
#
# VPIO_CFLAGS  Language level and warnings, for every C file we build. Every
#              warning is an error. -D_GNU_SOURCE exposes the Linux APIs we use
#              (pthread_setaffinity_np, memfd_create, ...).
# VPIO_OPT     The optimised build with debug info: what ships and what the
#              benchmarks run.
# VPIO_SAN     The test build: AddressSanitizer + UndefinedBehaviorSanitizer,
#              first report aborts the program (-fno-sanitize-recover=all) so
#              tests cannot miss it, frame pointers kept for readable stacks,
#              -O1 to stay fast enough for stress tests. Pass it when linking
#              too (the sanitizer runtimes are linked by -fsanitize=).
# VPIO_DEPFLAGS  Makes the compiler write OUT.d listing the headers OUT was
#              built from; `-include $(BINS:=.d)` then rebuilds on header edits.
#
# Helpers (optional):
#     $(call vpio_prog,OUT,SRCS,MODEFLAGS)   a recipe line: compile SRCS into OUT
#         e.g.  build/test/foo: test/c/foo.c $(HDRS) | build/test
#                       $(call vpio_prog,$@,$(filter %.c,$^),$(VPIO_SAN))
#
# Override CC on the command line (make CC=clang) as usual; CFLAGS/LDFLAGS
# given by the user are appended last so they can adjust anything.

ifndef VPIO_C_MK_INCLUDED
VPIO_C_MK_INCLUDED := 1

# The TAP harness of C test programs (include/vpio/tap.h, csrc/tap.c):
# add $(VPIO_TAP_INC) to a test program's flags and $(VPIO_TAP_SRC) to its sources.
VPIO_DEVKIT_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
VPIO_TAP_INC := -I$(VPIO_DEVKIT_DIR)/include
VPIO_TAP_SRC := $(VPIO_DEVKIT_DIR)/csrc/tap.c

VPIO_CFLAGS := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -D_GNU_SOURCE
VPIO_OPT := -O2 -g
VPIO_SAN := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
VPIO_DEPFLAGS := -MMD -MP

vpio_prog = $(CC) $(VPIO_CFLAGS) $(3) $(CPPFLAGS) $(CFLAGS) -o $(1) $(2) $(LDFLAGS) $(LDLIBS)

endif
