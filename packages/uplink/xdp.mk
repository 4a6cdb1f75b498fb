# xdp.mk: the AF_XDP wire's builds (csrc/wire_xdp*.c), included by Makefile
# (`include xdp.mk`) and runnable alone (`make -f xdp.mk xdp-test-bins`).
#   xdp-all        build/vpio-xdp-probe (the probe CLI: one JSON line)
#   xdp-test-bins  build/test/test-wire-xdp (the AF_XDP wire on a veth pair in
#                  its own network namespace; TAP; needs root),
#                  build/test/xdp-rate (the 64-byte packets/s measurement),
#                  and kernel/build/xdp_vpio.bpf.o (make -C ../../kernel)
# Needs libxdp-dev + libbpf-dev (kernel/package.json's vpio.debian list).
# When included, `all` and `test-bins` pick these up.
XDP_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
include $(XDP_DIR)/../devkit/c.mk

XDP_KERNEL := $(XDP_DIR)/../../kernel
XDP_OBJ := $(XDP_KERNEL)/build/xdp_vpio.bpf.o
XDP_INC := -I$(XDP_DIR)/csrc -I$(XDP_KERNEL)/include
XDP_HDRS := $(XDP_DIR)/csrc/wire.h $(wildcard $(XDP_DIR)/csrc/wire_xdp*.h) $(XDP_KERNEL)/include/vpio/xdp_vpio.h \
	$(XDP_KERNEL)/include/vpio/xsk_handoff.h
XDP_SRCS := $(XDP_DIR)/csrc/wire_xdp.c $(XDP_DIR)/csrc/wire_xdp_open.c $(XDP_DIR)/csrc/wire_xdp_probe.c \
	$(XDP_KERNEL)/csrc/xsk_handoff.c
XDP_LIBS := -lxdp -lbpf

.PHONY: xdp-all xdp-test-bins xdp-kernel

xdp-all: $(XDP_DIR)/build/vpio-xdp-probe

xdp-test-bins: $(XDP_DIR)/build/test/test-wire-xdp $(XDP_DIR)/build/test/xdp-rate xdp-kernel

xdp-kernel:
	$(MAKE) -s -C $(XDP_KERNEL) all

$(XDP_DIR)/build/vpio-xdp-probe: $(XDP_DIR)/csrc/xdp_probe.c $(XDP_SRCS) $(XDP_HDRS) 
	@mkdir -p $(@D)
	$(call vpio_prog,$@,$(filter %.c,$^),$(VPIO_OPT) $(XDP_INC)) $(XDP_LIBS)

$(XDP_DIR)/build/test/test-wire-xdp: $(XDP_DIR)/test/c/test-wire-xdp.c $(XDP_DIR)/test/c/xdp_netns.c $(XDP_SRCS) \
		$(VPIO_TAP_SRC) $(XDP_HDRS) $(XDP_DIR)/test/c/xdp_netns.h 
	@mkdir -p $(@D)
	$(call vpio_prog,$@,$(filter %.c,$^),$(VPIO_SAN) $(XDP_INC) $(VPIO_TAP_INC)) $(XDP_LIBS)

$(XDP_DIR)/build/test/xdp-rate: $(XDP_DIR)/test/c/xdp-rate.c $(XDP_DIR)/test/c/xdp_netns.c $(XDP_SRCS) $(XDP_HDRS) \
		$(XDP_DIR)/test/c/xdp_netns.h 
	@mkdir -p $(@D)
	$(call vpio_prog,$@,$(filter %.c,$^),$(VPIO_OPT) $(XDP_INC)) $(XDP_LIBS)

# included by another makefile: its `all` and `test-bins` build these too
ifneq ($(notdir $(firstword $(MAKEFILE_LIST))),xdp.mk)
all: xdp-all
test-bins: xdp-test-bins
endif
