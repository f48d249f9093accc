# SPDX-License-Identifier: GPL-2.0
#
# xen-gntalloc: build the module, its selftests and tools; install them; keep the driver clean.
# `make help` lists every target; every `?=` variable can be set on the command line. The test
# bed's targets are in $(QEMU_DIR)/testbed.mk, make bench in $(BENCH_DIR)/bench.mk. What a goal
# needs is provisioned for it ($(QEMU_DIR)/provision.mk, included last): nothing to install.

TEST_DIR  := tools/testing/selftests/drivers/xen/gntalloc
QEMU_DIR  := $(TEST_DIR)/qemu
# KERNEL_SOURCE_<k>, XEN_SOURCE_<x>: the kernels and Xens the test bed knows, where Debian has them
include $(QEMU_DIR)/kernels.mk

KERNEL         ?= 6.1
KERNELS        ?= 6.1 6.12 7.3
# By default the Xen of KERNEL's own distribution (kernels.mk): 4.17 for Debian 12's kernels.
KERNEL_XEN      = $(word 3,$(KERNEL_SOURCE_$(KERNEL)))
XEN            ?= $(KERNEL_XEN)
DRIVER         ?= ours
GNTALLOC_CACHE ?= /var/cache/xen-gntalloc
# build/<kernel>, or build/<kernel>-xen<xen> on another Xen than the kernel's own
BUILD          ?= $(CURDIR)/build/$(KERNEL)$(if $(filter-out $(KERNEL_XEN),$(XEN)),-xen$(XEN))

KSFT_DIR  := tools/testing/selftests
DEMO_DIR  := tools/xen/gntalloc-demo
BENCH_DIR := tools/xen/gntalloc-bench
# The module the VM loads: a copy per kernel, since drivers/xen/ is shared by all KERNELs
MODULE     = $(BUILD)/xen-gntalloc.ko
GNTSTAT    = $(BUILD)/gntstat/gntstat

# The prepared kernel tree to build against: by default the Debian headers of KERNEL.
KDIR       ?= $(P_KDIR)
XEN_CFLAGS ?= -I$(P_LIBXEN_INC)
XEN_LDLIBS ?= $(addprefix $(P_LIBXEN_LIB)/,libxengnttab.a libxentoolcore.a libxentoollog.a)
# What runs Kbuild (and dkms) for KERNEL: the machine itself for a kernel of its own Debian
# release, else the build root of the kernel's release, with the compiler the kernel was built
# with (provision.sh headers). The selftests and tools are userspace: the machine's gcc builds
# them for every kernel.
IN_KBUILD_ENV = $(if $(P_BUILDROOT),BUILDROOT_BIND='$(CURDIR) $(BUILD) $(GNTALLOC_CACHE)' \
	$(QEMU_DIR)/in-buildroot.sh $(P_BUILDROOT))

.DELETE_ON_ERROR:

all: modules selftests demo gntstat ## build module, selftests, demo and gntstat (the default)

help: ## this list
	@awk -F':.*## ' '/^[a-z-]+:.*## / { printf "  make %-15s %s\n", $$1, $$2 }' \
		$(QEMU_DIR)/testbed.mk $(BENCH_DIR)/bench.mk scripts/package/deb.mk scripts/patches.mk Makefile
	@echo 'Variables: KERNEL=$(subst $(eval) ,|,$(KNOWN_KERNELS)) (now $(KERNEL))' \
		'XEN=$(subst $(eval) ,|,$(KNOWN_XENS)) (now $(XEN)) KERNELS DRIVER=ours|stock|stock-patched STOCK STOCK_UNSAFE KDIR'
	@echo '  GNTALLOC_CACHE BUILD'
	@echo '  VM_CPUS VM_MEM DOM0_MEM VM_TIMEOUT SHELL_TIMEOUT XEN_EXTRA DOM0_EXTRA LOG_TAIL SCRIPT'
	@echo '  DURATION SEED DEBUG_* BENCH_* INSTALL_KVER INSTALL_KDIR SUBMITTER REROLL PATCHES_KERNEL'
	@echo '  (README "Targets", "Sending upstream")'

modules: ## build drivers/xen/xen-gntalloc.ko against KDIR
	$(IN_KBUILD_ENV) $(MAKE) -C $(KDIR) M=$(CURDIR)/drivers/xen modules
	mkdir -p $(dir $(MODULE)) && cp drivers/xen/xen-gntalloc.ko $(MODULE)

# lib.mk's install target lays the suite out as a kselftest tree, emit_tests gives its order.
# EMIT_MAKE, not $(MAKE), runs emit_tests: a line naming $(MAKE) runs even under `make -n`, and
# the sub-make would then print its recipe into the list instead of the tests.
EMIT_MAKE = $(MAKE)
selftests: ## build the selftests into $(BUILD)/kselftest
	rm -rf $(BUILD)/kselftest
	mkdir -p $(BUILD)/selftests
	$(MAKE) -C $(TEST_DIR) OUTPUT=$(BUILD)/selftests XEN_CFLAGS='$(XEN_CFLAGS)' \
		XEN_LDLIBS='$(XEN_LDLIBS)' INSTALL_PATH=$(BUILD)/kselftest/$(TEST_DIR:$(KSFT_DIR)/%=%) \
		install
	$(EMIT_MAKE) -s --no-print-directory -C $(TEST_DIR) OUTPUT=$(BUILD)/selftests emit_tests \
		| sed 's/^[^:]*://' > $(BUILD)/kselftest/list
	cp -a $(KSFT_DIR)/kselftest $(BUILD)/kselftest/

demo: ## build gntalloc-demo into $(BUILD)/demo
	$(MAKE) -C $(DEMO_DIR) OUTPUT=$(BUILD)/demo XEN_CFLAGS='$(XEN_CFLAGS)' XEN_LDLIBS='$(XEN_LDLIBS)'

gntstat: ## build the gntstat tool into $(BUILD)/gntstat
	$(MAKE) -C tools/xen/gntstat OUTPUT=$(dir $(GNTSTAT))

# $(call module_src,DIR): a private copy of the module's sources under DIR, for the builds that
# must not share drivers/xen's objects (a debug kernel, style) with a `make check` beside them.
module_src = mkdir -p $(1)/drivers/xen $(1)/include/uapi && rsync -a --delete \
	--exclude='*.mod.c' --include='*/' --include='*.[ch]' --include=Makefile --include=Kbuild \
	--exclude='*' drivers/xen/ $(1)/drivers/xen/ && rsync -a --delete include/uapi/ $(1)/include/uapi/

# make style: checkpatch.pl --strict (linux-source's) and a W=1 build with sparse of a copy of
# the driver, per kernel of KERNELS; scripts/style.sh says what fails.
STYLE_FILES := $(filter-out %.mod.c,$(wildcard drivers/xen/*.[ch])) include/uapi/xen/gntalloc.h Kconfig
style: ## checkpatch --strict, W=1 and sparse on the driver for every kernel in KERNELS
	@for k in $(KERNELS); do $(MAKE) --no-print-directory style-one KERNEL=$$k || exit 1; done
style-one: ## (used by style) the same for KERNEL alone
	@rm -rf $(BUILD)/style && $(call module_src,$(BUILD)/style)
	@CHECKPATCH=$(P_CHECKPATCH) STYLE_FILES='$(STYLE_FILES)' OUT=$(BUILD)/style \
		SPARSE='$(P_SPARSE)' KERNEL=$(KERNEL) scripts/style.sh env $(IN_KBUILD_ENV) $(MAKE) -C $(KDIR)

# ---- Installing on a host (README "Installing"): into /lib/modules/INSTALL_KVER/updates/,
# searched by depmod before the kernel's own drivers, so ours wins over the stock module ----
INSTALL_KVER ?= $(shell uname -r)
INSTALL_KDIR ?= /lib/modules/$(INSTALL_KVER)/build
DKMS_NAME    := xen-gntalloc
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_FILES   := dkms.conf Makefile Kconfig drivers/xen/Makefile drivers/xen/*.[ch] \
		include/uapi/xen/gntalloc.h
# $(call dkms_src,DIR): the module's sources as DKMS wants them in DIR/xen-gntalloc-VERSION.
dkms_src = rm -rf $(1)/$(DKMS_NAME)-$(DKMS_VERSION) && mkdir -p $(1)/$(DKMS_NAME)-$(DKMS_VERSION) && \
	cp --parents $(DKMS_FILES) $(1)/$(DKMS_NAME)-$(DKMS_VERSION)/
need_dkms = command -v dkms >/dev/null || apt-get install -y --no-install-recommends dkms

install: ## build for INSTALL_KVER (the running kernel) and install into its updates/
	$(MAKE) -C $(INSTALL_KDIR) M=$(CURDIR)/drivers/xen modules
	$(MAKE) -C $(INSTALL_KDIR) M=$(CURDIR)/drivers/xen INSTALL_MOD_DIR=updates modules_install
	depmod -a $(INSTALL_KVER)
uninstall: ## remove what install installed
	rm -f /lib/modules/$(INSTALL_KVER)/updates/xen-gntalloc.ko*
	depmod -a $(INSTALL_KVER)
dkms-install: ## register with DKMS and install for INSTALL_KVER (rebuilt on kernel upgrades)
	$(need_dkms)
	-dkms remove -m $(DKMS_NAME) -v $(DKMS_VERSION) --all 2>/dev/null
	$(call dkms_src,/usr/src)
	dkms add -m $(DKMS_NAME) -v $(DKMS_VERSION)
	@# --force: the stock module has no MODULE_VERSION either, and dkms keeps a module it finds
	@# to be of the same version as ours (the package says so in modules_to_force_install)
	dkms install --force -m $(DKMS_NAME) -v $(DKMS_VERSION) -k $(INSTALL_KVER)
dkms-uninstall: ## remove it from DKMS
	dkms remove -m $(DKMS_NAME) -v $(DKMS_VERSION) --all

# Debian's dkms builds for KERNEL's provisioned headers in a private tree: nothing is installed.
# For a kernel of another Debian release it is that release's dkms, in the build root.
DKMS_TREE  = $(BUILD)/dkms
DKMS_BUILT = $(BUILD)/dkms-xen-gntalloc.ko
dkms-build: ## Debian's dkms builds the module for KERNEL, in a private tree under BUILD
	$(if $(P_BUILDROOT),,$(need_dkms))
	rm -rf $(DKMS_TREE) && mkdir -p $(DKMS_TREE)
	$(call dkms_src,$(BUILD)/dkms-src)
	$(IN_KBUILD_ENV) dkms build -m $(DKMS_NAME) -v $(DKMS_VERSION) -k $(P_KABI) \
		--kernelsourcedir $(KDIR) --dkmstree $(DKMS_TREE) --sourcetree $(BUILD)/dkms-src
	@ko=$$(ls $(DKMS_TREE)/$(DKMS_NAME)/$(DKMS_VERSION)/$(P_KABI)/*/module/xen-gntalloc.ko*) && \
	case $$ko in *.xz) xz -dc $$ko ;; *.zst) zstd -dc $$ko ;; *) cat $$ko ;; esac \
		>$(DKMS_BUILT) && echo "dkms-build: $$ko -> $(DKMS_BUILT)"
check-dkms: MODULE = $(DKMS_BUILT)
check-dkms: dkms-build selftests demo gntstat ## make check with the module dkms-build built
	@$(call vm,check)

# The copied kselftest files go too: `make selftests` copies them again.
clean: ## remove build/, the module's objects and the copied kselftest files
	rm -rf build
	cd drivers/xen && rm -f *.o .*.o *.ko *.mod *.mod.c .*.cmd Module.symvers modules.order
	cd $(KSFT_DIR) && rm -rf lib.mk kselftest.h kselftest_harness.h kselftest_module.h \
		kselftest_deps.sh kselftest .kselftest-from

.PHONY: all help modules selftests demo gntstat style style-one install uninstall dkms-install \
	dkms-uninstall dkms-build check-dkms clean

include $(QEMU_DIR)/testbed.mk $(BENCH_DIR)/bench.mk scripts/patches.mk
# make deb, make check-deb: the Debian packages
include scripts/package/deb.mk

# What each goal needs provisioned (testbed.mk and bench.mk add theirs); `make modules KDIR=` none.
PARTS_modules    := $(if $(filter command line environment,$(origin KDIR)),,host headers)
PARTS_selftests  := host libxen ksft
PARTS_demo       := host libxen
PARTS_all        := $(PARTS_modules) $(PARTS_selftests)
PARTS_style-one  := host headers checkpatch
PARTS_dkms-install := host
PARTS_dkms-build := host headers kernel
PARTS_check-dkms := $(TESTBED_PARTS)
include $(QEMU_DIR)/provision.mk
