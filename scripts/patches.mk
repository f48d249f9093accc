# SPDX-License-Identifier: GPL-2.0
#
# The upstream series (README "Sending upstream"), included by the top Makefile:
#   make patches         scripts/mkseries.sh writes the series of scripts/upstream.series
#                        against PATCHES_KERNEL's pristine source (provision.sh pristine)
#   make check-patches   scripts/checkseries.sh: git am, every patch builds =m, the series =y,
#                        W=1 + sparse, checkpatch.pl --strict, the selftests build
# Both run for PATCHES_KERNEL, whatever KERNEL says: a sub-make provisions that kernel (its
# pristine tree, its build root and sparse, libxen for the selftests).

PATCHES_KERNEL ?= 7.3
PATCHES_DIR    ?= $(CURDIR)/build/upstream
PATCHES        ?= $(PATCHES_DIR)/patches
SUBMITTER      ?= Your Name <your.name@example.org>
REROLL         ?=
PATCHES_ARGS    = --no-print-directory KERNEL=$(PATCHES_KERNEL) \
	XEN=$(word 3,$(KERNEL_SOURCE_$(PATCHES_KERNEL)))

patches: ## write the upstream series into build/upstream/patches (SUBMITTER=, REROLL=)
	@$(MAKE) $(PATCHES_ARGS) patches-$(PATCHES_KERNEL)
check-patches: patches ## the series applies, every patch builds, checkpatch --strict, =y, selftests
	@$(MAKE) $(PATCHES_ARGS) check-patches-$(PATCHES_KERNEL)

patches-$(PATCHES_KERNEL): ## (used by patches) the same, provisioned for PATCHES_KERNEL
	@command -v unifdef >/dev/null || apt-get install -y -q --no-install-recommends unifdef
	PRISTINE=$(P_PRISTINE) BASE_NAME="Debian's linux-source-$(PATCHES_KERNEL) $(P_SRC_VER)" \
		WORK=$(PATCHES_DIR)/linux OUT=$(PATCHES) SUBMITTER='$(SUBMITTER)' REROLL=$(REROLL) \
		scripts/mkseries.sh
check-patches-$(PATCHES_KERNEL): ## (used by check-patches) the same, provisioned for PATCHES_KERNEL
	@/usr/bin/python3 -c 'import ply, git' 2>/dev/null || apt-get install -y -q --no-install-recommends \
		python3-ply python3-git # what checkpatch.pl's SPDX check (scripts/spdxcheck.py) imports
	PRISTINE=$(P_PRISTINE) PATCHES=$(PATCHES) CHECK_DIR=$(PATCHES_DIR)/check SPARSE=$(P_SPARSE) \
		KCC=$(or $(notdir $(lastword $(sort $(wildcard $(P_BUILDROOT)/usr/bin/gcc-[0-9]*)))),gcc) \
		XEN_CFLAGS='$(XEN_CFLAGS)' XEN_LDLIBS='$(XEN_LDLIBS)' \
		scripts/checkseries.sh env $(IN_KBUILD_ENV)

# The commit of the series, for the built-in debug kernel (qemu/testbed.mk): mkseries.sh
# rewrites it only when the series changed.
$(PATCHES_DIR)/linux.commit: FORCE
	@$(MAKE) $(PATCHES_ARGS) patches-$(PATCHES_KERNEL)

PARTS_patches-$(PATCHES_KERNEL)       := host pristine
PARTS_check-patches-$(PATCHES_KERNEL) := host headers pristine libxen

.PHONY: patches check-patches patches-$(PATCHES_KERNEL) check-patches-$(PATCHES_KERNEL)
