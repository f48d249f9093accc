# SPDX-License-Identifier: GPL-2.0
#
# The test bed's targets, included by the top Makefile: boot Xen (XEN) + a Debian PV dom0 (KERNEL)
# in QEMU and run the suite, the demo, a payload or the stress program in it (README.md here).
# Every run goes through $(call vm,MODE); what differs between runs is a few variables.

VM_CPUS       ?= 2
VM_MEM        ?= 2048
DOM0_MEM      ?= 1024M
VM_TIMEOUT    ?= 600
SHELL_TIMEOUT ?= 3600
XEN_EXTRA     ?=
DOM0_EXTRA    ?=
LOG_TAIL      ?= 40
SCRIPT        ?=

# What the VM boots and loads; check-debug overrides them with the debug kernel's.
KABI      = $(P_KABI)
VMLINUZ   = $(P_VMLINUZ)
KMODROOT  = $(P_KMODROOT)
KSFT      = $(BUILD)/kselftest
DEMO      = $(BUILD)/demo/gntalloc-demo
DEBUG     = 0

# xdomain: the runs that make guest domains (the xdomain tests; make run XDOMAIN=1, whose
# two-domain part is not yet reliable: qemu/README.md, "Guest domains") get Xen's toolstack and
# a guest's initramfs in dom0 (mkinitramfs.sh); the others boot without them.
XDOMAIN       ?= 0
GUEST_ROLE     = $(BUILD)/selftests/gntalloc_xdomain_guest
# While a second domain runs, dom0's processes misread their own TLS and data, much more often
# when the emulated CPU has FSGSBASE (reproducers/xdomain-fork-segv.sh, qemu/README.md "Guest
# domains"): the runs with guest domains emulate a CPU without it. Not gone: make check keeps
# them out (XDOMAIN=1 to run them).
QEMU_CPU      ?= max,-smap,-smep$(if $(filter 1,$(XDOMAIN)),$(XDOMAIN_CPU))
XDOMAIN_CPU   := ,-fsgsbase

# QEMU: the emulator, host (the machine's, Debian 12's 7.2) or a QEMU_SOURCE_<v> of kernels.mk
# (10.0, 11.1: Debian 13's, from the cache with its own libraries; qemu/README.md, "Which QEMU").
QEMU          ?= host

# $(call vm,MODE): boot the test bed in MODE (check | run | vm-run); vm.sh judges the run.
# VM_FILES, VM_LOG and QEMU_ACCEL (default tcg,thread=multi) pass through the environment
# (bench and stress set the first two per boot).
vm = MODE=$(1) DRIVER=$(DRIVER) BUILD=$(BUILD) KABI=$(KABI) VMLINUZ=$(VMLINUZ) \
	KMODROOT=$(KMODROOT) XEN_IMAGE=$(P_XEN_IMAGE) BUSYBOX=$(P_BUSYBOX) MODULE=$(MODULE) \
	KSFT=$(if $(filter check,$(1)),$(KSFT)) DEMO=$(DEMO) DEBUG=$(DEBUG) \
	PAYLOAD='$(if $(filter vm-run,$(1)),$(abspath $(SCRIPT)))' VM_CPUS='$(VM_CPUS)' \
	VM_MEM='$(VM_MEM)' DOM0_MEM='$(DOM0_MEM)' VM_TIMEOUT='$(VM_TIMEOUT)' \
	SHELL_TIMEOUT='$(SHELL_TIMEOUT)' XEN_EXTRA='$(XEN_EXTRA)' DOM0_EXTRA='$(DOM0_EXTRA)' \
	LOG_TAIL='$(LOG_TAIL)' QEMU_CPU='$(QEMU_CPU)' VM_FILES="$(GNTSTAT) $${VM_FILES:-}" \
	XDOMAIN=$(XDOMAIN) TOOLSTACK=$(P_TOOLSTACK) GUEST_ROLE=$(GUEST_ROLE) \
	QEMU_ROOT='$(P_QEMU_ROOT)' $(QEMU_DIR)/vm.sh

# ---- make check-stock STOCK=patched / STOCK_UNSAFE=1 (issue 19, tools/xen/stock-gntalloc-fix) ----
# STOCK=patched runs the suite on the stock driver with the fix for its use-after-free: KERNEL's
# own drivers/xen/gntalloc.c (linux-source-<k>, provision.sh stocksrc) patched and built out of
# tree, loaded with insmod (DRIVER=stock-patched, log check-stock-patched.log). STOCK_UNSAFE=1
# runs the reproducer of that bug on the unpatched stock driver as well: it oopses the kernel and
# the run fails (log check-stock-unsafe.log). It reaches the test as GNTALLOC_STOCK_UNSAFE=1 in
# init's environment, from dom0's command line.
STOCK         ?=
STOCK_UNSAFE  ?=
STOCK_FIX_DIR := tools/xen/stock-gntalloc-fix
STOCK_BUILD    = $(BUILD)/stock-patched
STOCK_ENV      = $(if $(STOCK_UNSAFE),VM_LOG=$(BUILD)/check-stock-unsafe.log)
STOCK_ARGS     = $(if $(STOCK_UNSAFE),DOM0_EXTRA='$(DOM0_EXTRA) GNTALLOC_STOCK_UNSAFE=1')
ifeq ($(DRIVER),stock-patched)
STOCK_PARTS       := stocksrc
STOCK_MODULE_GOAL := stock-patched-module
MODULE             = $(STOCK_BUILD)/xen-gntalloc.ko
endif
stock-patched-module: ## (used by check-stock STOCK=patched) the stock driver with the fix, out of tree
	$(MAKE) -C $(STOCK_FIX_DIR) prepare SRC=$(P_STOCK_SRC) OUTPUT=$(STOCK_BUILD)
	$(IN_KBUILD_ENV) $(MAKE) -C $(STOCK_FIX_DIR) build KDIR=$(KDIR) OUTPUT=$(STOCK_BUILD)
PARTS_stock-patched-module := host headers stocksrc
# ---- end of check-stock STOCK= ----

TESTBED_PARTS := host headers kernel xen libxen busybox ksft toolstack qemu-$(QEMU) $(STOCK_PARTS)
OUR_MODULE    := $(if $(filter ours,$(DRIVER)),modules)$(STOCK_MODULE_GOAL)

check: $(OUR_MODULE) selftests demo gntstat ## build all, boot Xen + dom0 in QEMU, run the selftests (XDOMAIN=1: and the cross-domain test)
	@$(if $(filter 1,$(XDOMAIN)),sed -i 's/^gntalloc_unload_test$$/gntalloc_xdomain_test\n&/' $(BUILD)/kselftest/list)
	@$(call vm,check)
check-stock: ## the same selftests against the stock xen-gntalloc (a baseline; STOCK=patched: with the fix)
	$(STOCK_ENV) $(MAKE) check DRIVER=stock$(if $(filter patched,$(STOCK)),-patched) $(STOCK_ARGS)
run: $(OUR_MODULE) $(if $(filter 1,$(XDOMAIN)),selftests) demo gntstat ## boot with our driver, run gntalloc-demo and gntstat (XDOMAIN=1: and a guest domain; a shell on a terminal)
	@$(call vm,run)
vm-run: $(OUR_MODULE) $(if $(filter 1,$(XDOMAIN)),selftests) demo gntstat ## run SCRIPT (a script or static binary) in dom0; its exit is the verdict
	@$(call vm,vm-run)

# make stress: the stress program of the suite, as long as asked; its exit status is the verdict.
DURATION ?= 600
SEED     ?=
stress: override SCRIPT := $(BUILD)/stress/payload.sh
stress: VM_TIMEOUT = $(shell echo $$(( $(DURATION) + 300 )))
stress: $(OUR_MODULE) selftests demo gntstat ## gntalloc_stress --duration DURATION [--seed SEED] in dom0
	mkdir -p $(dir $(SCRIPT))
	printf '#!/bin/sh\nexec /usr/bin/gntalloc_stress --duration %s%s\n' '$(DURATION)' \
		'$(if $(SEED), --seed $(SEED))' >$(SCRIPT)
	@VM_FILES=$(BUILD)/selftests/gntalloc_stress $(call vm,vm-run)

# ---- make check-debug: the suite in a debug dom0 kernel (README.md here, "Debug kernel") ----
# debug-kernel.sh builds it once into GNTALLOC_CACHE and writes its paths as a fragment; our
# module is built against it from a copy of its sources under BUILD; the suite gets
# gntalloc_fault_test added to its list and its timeout tripled; init-debug.sh runs it in phases.
DEBUG_BUILD      ?= $(CURDIR)/build/$(KERNEL)-debug
DEBUG_DOM0_EXTRA ?= slub_debug=FZPU log_buf_len=8M
DEBUG_VM_TIMEOUT ?= 900
DEBUG_GOALS      := check-debug vm-run-debug debug-module debug-selftests
DEBUG_KSFT        = $(BUILD)/kselftest/$(TEST_DIR:$(KSFT_DIR)/%=%)

$(DEBUG_GOALS): override BUILD := $(DEBUG_BUILD)
$(DEBUG_GOALS): override DRIVER := ours
$(DEBUG_GOALS): override KDIR = $(P_DEBUG_KDIR)
$(DEBUG_GOALS): override KABI = $(P_DEBUG_KABI)
$(DEBUG_GOALS): override VMLINUZ = $(P_DEBUG_VMLINUZ)
$(DEBUG_GOALS): override KMODROOT = $(P_DEBUG_KMODROOT)
$(DEBUG_GOALS): override MODULE = $(if $(DEBUG_BUILTIN),,$(BUILD)/module/drivers/xen/xen-gntalloc.ko)
$(DEBUG_GOALS): override DOM0_EXTRA := $(DEBUG_DOM0_EXTRA) $(DOM0_EXTRA)
$(DEBUG_GOALS): override VM_TIMEOUT = $(DEBUG_VM_TIMEOUT)
$(DEBUG_GOALS): override DEMO =
$(DEBUG_GOALS): override DEBUG = 1
# No guest domains in the debug kernel (its modules are not Debian's): the xdomain tests are
# make check's.
$(DEBUG_GOALS): override XDOMAIN := 0

# The kernel of the upstream series (PATCHES_KERNEL, scripts/patches.mk) is built from the
# series with our driver built in: no module to build or load, and gntalloc_unload_test, which
# unloads it, is left out of the list (it would skip, and a skip fails the run).
DEBUG_BUILTIN      = $(P_DEBUG_BUILTIN)
DEBUG_SERIES_BUILD = $(filter $(PATCHES_KERNEL),$(KERNEL))
# The options of KERNEL's debug kernel that differ from debug-kernel.config (7.3: no DEBUG_VM,
# an upstream WARN at boot); DEBUG_OVERRIDE= builds it from debug-kernel.config alone.
DEBUG_OVERRIDE    ?= $(wildcard $(QEMU_DIR)/debug-kernel-$(KERNEL).config)
DEBUG_KERNEL_ENV   = DEBUG_OVERRIDE='$(DEBUG_OVERRIDE)' \
	$(if $(DEBUG_SERIES_BUILD),DEBUG_SERIES=$(PATCHES_DIR)/linux)
DEBUG_KERNEL_DEPS  = $(if $(DEBUG_SERIES_BUILD),$(PATCHES_DIR)/linux.commit \
	$(wildcard $(QEMU_DIR)/debug-kernel-$(KERNEL).fixes/*.patch)) \
	$(DEBUG_OVERRIDE) $(DEBUG_BUILD)/override
# (rewritten only when DEBUG_OVERRIDE changes: debug-kernel.mk is remade then)
$(DEBUG_BUILD)/override: FORCE
	@mkdir -p $(@D)
	@[ -f $@ ] && [ "$$(cat $@)" = '$(DEBUG_OVERRIDE)' ] || echo '$(DEBUG_OVERRIDE)' >$@

check-debug: debug-module debug-selftests gntstat ## the selftests and fault injection in a debug dom0
	@echo '$@: debug kernel $(KABI)$(if $(DEBUG_BUILTIN), with xen-gntalloc built in)'
	@$(call vm,check)
vm-run-debug: debug-module gntstat ## vm-run in the debug kernel
	@$(call vm,vm-run)
# (the fragment that says "built in" is read after this file: decided in the recipe)
debug-module: ## (used by check-debug) our module, built against the debug kernel
	$(if $(DEBUG_BUILTIN),@echo '$@: none: xen-gntalloc is built into $(KABI)',$(call module_src,$(BUILD)/module))
	$(if $(DEBUG_BUILTIN),,$(MAKE) -C $(KDIR) M=$(BUILD)/module/drivers/xen modules)
debug-selftests: selftests ## (used by check-debug) the suite plus gntalloc_fault_test
	echo gntalloc_fault_test >>$(BUILD)/kselftest/list
	sed -i '/^gntalloc_xdomain_test$$/d' $(BUILD)/kselftest/list
	$(if $(DEBUG_BUILTIN),sed -i '/^gntalloc_unload_test$$/d' $(BUILD)/kselftest/list)
	t=$$(sed -n 's/^timeout=//p' $(DEBUG_KSFT)/settings); \
	sed -i "s/^timeout=.*/timeout=$$(( $${t:-45} * 3 ))/" $(DEBUG_KSFT)/settings

ifneq ($(filter vm-run vm-run-debug,$(MAKECMDGOALS)),)
ifeq ($(wildcard $(SCRIPT)),)
$(error vm-run: say which file to run: make vm-run SCRIPT=path (now SCRIPT='$(SCRIPT)'))
endif
endif

provision: ## fetch everything for KERNEL now, and show where it is
	@$(foreach v,KDIR BUILDROOT SPARSE KABI VMLINUZ KMODROOT XEN_IMAGE BUSYBOX LIBXEN_INC LIBXEN_LIB \
		KSFT_FROM QEMU_ROOT, \
		echo '$(v)=$(P_$(v))';)

PARTS_check        := $(TESTBED_PARTS)
PARTS_run          := $(TESTBED_PARTS)
PARTS_vm-run       := $(TESTBED_PARTS)
PARTS_stress       := $(TESTBED_PARTS)
PARTS_provision    := $(TESTBED_PARTS)
PARTS_check-debug     := host xen busybox libxen ksft debug-kernel qemu-$(QEMU)
PARTS_vm-run-debug    := $(PARTS_check-debug)
PARTS_debug-module    := $(PARTS_check-debug)
PARTS_debug-selftests := $(PARTS_check-debug)

.PHONY: check check-stock run vm-run stress $(DEBUG_GOALS) provision stock-patched-module
