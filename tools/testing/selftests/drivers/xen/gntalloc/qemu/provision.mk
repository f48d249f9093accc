# SPDX-License-Identifier: GPL-2.0
#
# Provisioning results as make variables, included by the top Makefile after every PARTS_<goal>.
#
# provision.sh -o writes one fragment per part, build/provision/<kernel>-xen<xen>/<part>.mk
# ("P_KDIR := ...", "P_FILES += ..."); debug-kernel.sh -o writes debug-kernel.mk the same way.
# Only the parts that the goals on the command line need are included, so `make clean`, `make
# help` or `make modules KDIR=...` provision nothing. make remakes a fragment (and then starts
# over, reading it) when it is missing, older than the script that writes it or than the apt
# lists, when KERNEL's GNTALLOC_CACHE changed, or when a file it names is gone.

PROVISION_DIR := build/provision/$(KERNEL)-xen$(XEN)
# the machine's package lists and the private ones of other Debian releases (provision.sh)
APT_LISTS     := $(wildcard /var/lib/apt/lists $(GNTALLOC_CACHE)/apt-*/lists)
PARTS         := $(sort $(foreach g,$(or $(MAKECMDGOALS),all),$(PARTS_$(g))))

ifneq ($(PARTS),)
ifeq ($(KERNEL_SOURCE_$(KERNEL)),)
$(error KERNEL=$(KERNEL) is not in $(QEMU_DIR)/kernels.mk (README "Adding a kernel"))
endif
ifeq ($(XEN_SOURCE_$(XEN)),)
$(error XEN=$(XEN) is not in $(QEMU_DIR)/kernels.mk)
endif
include $(PARTS:%=$(PROVISION_DIR)/%.mk)
endif
P_MISSING := $(filter-out $(wildcard $(P_FILES)),$(P_FILES))

# Rewritten only when its line changes: the fragments depend on its time, not on every run.
PROVISION_KEY := KERNEL=$(KERNEL) XEN=$(XEN) GNTALLOC_CACHE=$(GNTALLOC_CACHE)
$(PROVISION_DIR)/key: FORCE
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = '$(PROVISION_KEY)' ] || echo '$(PROVISION_KEY)' >$@

PROVISION_DEPS := $(PROVISION_DIR)/key $(APT_LISTS) $(if $(P_MISSING),FORCE)

# (DEBUG_KERNEL_DEPS, DEBUG_KERNEL_ENV: testbed.mk's, for the built-in debug kernel)
$(PROVISION_DIR)/debug-kernel.mk: $(QEMU_DIR)/debug-kernel.sh $(QEMU_DIR)/debug-kernel.config \
		$(QEMU_DIR)/provision.sh $(QEMU_DIR)/kernels.mk $(PROVISION_DEPS) $(DEBUG_KERNEL_DEPS)
	KERNEL=$(KERNEL) XEN=$(XEN) GNTALLOC_CACHE=$(GNTALLOC_CACHE) $(DEBUG_KERNEL_ENV) \
		$(QEMU_DIR)/debug-kernel.sh -o $@

$(PROVISION_DIR)/%.mk: $(QEMU_DIR)/provision.sh $(QEMU_DIR)/kernels.mk $(PROVISION_DEPS)
	KERNEL=$(KERNEL) XEN=$(XEN) GNTALLOC_CACHE=$(GNTALLOC_CACHE) KSFT_DIR=$(CURDIR)/$(KSFT_DIR) \
		$(QEMU_DIR)/provision.sh -o $@ $*

FORCE:
.PHONY: FORCE
