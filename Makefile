# SPDX-License-Identifier: GPL-2.0
#
# xen-gntalloc: build the module, its selftests and demo; boot them in Xen + dom0 under QEMU.
# `make help` lists the targets. Every `?=` variable can be set on the command line.
#
# Nothing needs installing by hand: each target first provisions what it lacks (host tools
# with apt-get, the kernel/Xen/libxen packages with apt-get download into GNTALLOC_CACHE) via
# $(QEMU_DIR)/provision.sh. That runs lazily, from the recipes that need it, so `make clean`
# or `make modules KDIR=...` fetch no kernel they do not use.

KERNEL         ?= 6.1
DRIVER         ?= ours
GNTALLOC_CACHE ?= /var/cache/xen-gntalloc
BUILD          ?= $(CURDIR)/build/$(KERNEL)
VM_CPUS        ?= 2
VM_MEM         ?= 2048
DOM0_MEM       ?= 1024M
VM_TIMEOUT     ?= 600
SHELL_TIMEOUT  ?= 3600
XEN_EXTRA      ?=
DOM0_EXTRA     ?=
LOG_TAIL       ?= 40
SCRIPT         ?=

QEMU_DIR := tools/testing/selftests/drivers/xen/gntalloc/qemu
TEST_DIR := tools/testing/selftests/drivers/xen/gntalloc
KSFT_DIR := tools/testing/selftests
DEMO_DIR := tools/xen/gntalloc-demo
GNTSTAT  := $(BUILD)/gntstat/gntstat
# The module the VM loads: a copy per kernel, since drivers/xen/ is shared by all KERNELs
MODULE    = $(BUILD)/xen-gntalloc.ko

# $(call provision,PART...) runs provision.sh once per make run for each PART and turns the
# KEY=VALUE lines it prints into make variables P_KEY. It expands to nothing.
PROVISION = KERNEL=$(KERNEL) GNTALLOC_CACHE=$(GNTALLOC_CACHE) \
	KSFT_DIR=$(CURDIR)/$(KSFT_DIR) $(CURDIR)/$(QEMU_DIR)/provision.sh
provision = $(foreach p,$(filter-out $(PROVISIONED),$(1)),$(eval $(call provision_one,$(p))))
define provision_one
PROVISIONED += $(1)
provision_out := $$(shell $(PROVISION) $(1))
ifneq ($$(.SHELLSTATUS),0)
$$(error provisioning '$(1)' failed, see above)
endif
$$(foreach kv,$$(provision_out),$$(eval P_$$(kv)))
endef

# The prepared kernel tree to build against: by default the Debian headers of KERNEL.
KDIR       ?= $(call provision,host headers)$(P_KDIR)
XEN_CFLAGS ?= -I$(P_LIBXEN_INC)
XEN_LDLIBS ?= $(addprefix $(P_LIBXEN_LIB)/,libxengnttab.a libxentoolcore.a libxentoollog.a)

all: modules selftests demo gntstat

help:
	@echo 'make check        build everything, boot Xen + dom0 in QEMU, run the selftests'
	@echo 'make check-stock  the same selftests against the stock xen-gntalloc (a baseline)'
	@echo 'make check-debug  the selftests and fault injection in a debug dom0 kernel (built once)'
	@echo 'make vm-run-debug SCRIPT=path   the same as vm-run, in the debug kernel'
	@echo 'make run          boot with our driver and run gntalloc-demo (a shell on a terminal)'
	@echo 'make vm-run SCRIPT=path   run a script or static binary in dom0, its exit is the verdict'
	@echo 'make modules      build drivers/xen/xen-gntalloc.ko (against KDIR)'
	@echo 'make selftests    build the kselftests into $$(BUILD)/kselftest'
	@echo 'make demo         build gntalloc-demo'
	@echo 'make gntstat      build the gntstat tool (tools/xen/gntstat)'
	@echo 'make bench        our driver against the stock one, per kernel (KERNELS="6.1 6.12"): README "Performance"'
	@echo 'make provision    fetch everything for KERNEL now'
	@echo 'make clean        remove build/ and the objects'
	@echo 'Variables: KERNEL=6.1|6.12 DRIVER=ours|stock KDIR= GNTALLOC_CACHE= VM_TIMEOUT='
	@echo '  VM_CPUS= VM_MEM= DOM0_MEM= XEN_EXTRA= DOM0_EXTRA= LOG_TAIL= (now: KERNEL=$(KERNEL))'

provision:
	$(call provision,host headers kernel xen libxen busybox ksft)
	@echo 'KDIR=$(P_KDIR)'
	@echo 'KABI=$(P_KABI) VMLINUZ=$(P_VMLINUZ)'
	@echo 'XEN_IMAGE=$(P_XEN_IMAGE)'
	@echo 'LIBXEN_INC=$(P_LIBXEN_INC) KSFT_FROM=$(P_KSFT_FROM)'

modules:
	$(call provision,host)
	@test -f drivers/xen/Makefile || \
		{ echo 'modules: drivers/xen/Makefile is missing: no driver in this checkout' >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR)/drivers/xen CONFIG_XEN_GRANT_DEV_ALLOC=m modules
	mkdir -p $(dir $(MODULE)) && cp drivers/xen/xen-gntalloc.ko $(MODULE)

# The kselftest framework files are copied from linux-source-$(KERNEL) by `provision ksft`;
# lib.mk's install target lays the suite out as a kselftest tree, emit_tests gives its order.
selftests:
	$(call provision,host libxen ksft)
	@test -f $(TEST_DIR)/Makefile || \
		{ echo 'selftests: $(TEST_DIR)/Makefile is missing' >&2; exit 1; }
	rm -rf $(BUILD)/kselftest
	mkdir -p $(BUILD)/selftests
	$(MAKE) -C $(TEST_DIR) OUTPUT=$(BUILD)/selftests XEN_CFLAGS='$(XEN_CFLAGS)' \
		XEN_LDLIBS='$(XEN_LDLIBS)' INSTALL_PATH=$(BUILD)/kselftest/$(TEST_DIR:$(KSFT_DIR)/%=%) \
		install
	$(MAKE) -s --no-print-directory -C $(TEST_DIR) OUTPUT=$(BUILD)/selftests emit_tests \
		| sed 's/^[^:]*://' > $(BUILD)/kselftest/list
	cp -a $(KSFT_DIR)/kselftest $(BUILD)/kselftest/

demo:
	$(call provision,host libxen)
	$(MAKE) -C $(DEMO_DIR) OUTPUT=$(BUILD)/demo XEN_CFLAGS='$(XEN_CFLAGS)' \
		XEN_LDLIBS='$(XEN_LDLIBS)'

gntstat:
	$(MAKE) -C tools/xen/gntstat OUTPUT=$(dir $(GNTSTAT))

# $(call vm,MODE): boot the test bed; vm.sh judges the run.
vm = $(call provision,host kernel xen busybox) \
	MODE=$(1) DRIVER=$(DRIVER) BUILD=$(BUILD) KABI=$(P_KABI) VMLINUZ=$(P_VMLINUZ) \
	KMODROOT=$(P_KMODROOT) XEN_IMAGE=$(P_XEN_IMAGE) BUSYBOX=$(P_BUSYBOX) MODULE=$(MODULE) \
	KSFT=$(if $(filter check,$(1)),$(BUILD)/kselftest) DEMO=$(BUILD)/demo/gntalloc-demo PAYLOAD='$(if $(SCRIPT),$(abspath $(SCRIPT)))' \
	VM_CPUS='$(VM_CPUS)' VM_MEM='$(VM_MEM)' DOM0_MEM='$(DOM0_MEM)' \
	VM_TIMEOUT='$(VM_TIMEOUT)' SHELL_TIMEOUT='$(SHELL_TIMEOUT)' XEN_EXTRA='$(XEN_EXTRA)' \
	DOM0_EXTRA='$(DOM0_EXTRA)' LOG_TAIL='$(LOG_TAIL)' VM_FILES="$(GNTSTAT) $${VM_FILES:-}" \
	$(QEMU_DIR)/vm.sh

OUR_MODULE := $(if $(filter ours,$(DRIVER)),modules)

check: $(OUR_MODULE) selftests demo gntstat
	@$(call vm,check)

check-stock:
	$(MAKE) check DRIVER=stock

# ---- make check-debug: the suite in a debug dom0 kernel (README "Debug kernel") ----
# debug-kernel.sh builds Debian's linux-source-$(KERNEL) with lockdep, kmemleak, KFENCE, SLUB/VM
# debugging and fault injection once and caches it in GNTALLOC_CACHE; our module is built
# against it from a copy of its sources (drivers/xen stays as `make modules` left it); the
# suite is built into DEBUG_BUILD with gntalloc_fault_test added to its list and its timeout
# tripled; init-debug.sh runs it in phases and reads the kernel log. Same per-test results
# and closing line as check. `make vm-run-debug SCRIPT=path` runs a payload in that kernel.
DEBUG_BUILD      ?= $(CURDIR)/build/$(KERNEL)-debug
DEBUG_DOM0_EXTRA ?= slub_debug=FZPU log_buf_len=8M
DEBUG_VM_TIMEOUT ?= 900
DEBUG_MODSRC     := $(DEBUG_BUILD)/module
DEBUG_KSFT       := $(DEBUG_BUILD)/kselftest/$(TEST_DIR:$(KSFT_DIR)/%=%)

check-debug: DEBUG_MODE := check
vm-run-debug: DEBUG_MODE := vm-run
check-debug vm-run-debug: gntstat
	$(call provision,host xen busybox)
	@start=$$(date +%s); \
	if [ $(DEBUG_MODE) = vm-run ] && [ ! -f '$(SCRIPT)' ]; then \
		echo "vm-run-debug: say which file to run: SCRIPT=path (now '$(SCRIPT)')" >&2; exit 1; \
	fi; \
	out=$$(KERNEL=$(KERNEL) GNTALLOC_CACHE=$(GNTALLOC_CACHE) $(QEMU_DIR)/debug-kernel.sh) || \
		exit 1; \
	eval "$$out"; \
	echo "$@: debug kernel $$DEBUG_KABI ($$(( $$(date +%s) - start )) s)"; \
	if [ $(DEBUG_MODE) = check ]; then \
		$(MAKE) --no-print-directory selftests BUILD=$(DEBUG_BUILD) || exit 1; \
		echo gntalloc_fault_test >>$(DEBUG_BUILD)/kselftest/list; \
		t=$$(sed -n 's/^timeout=//p' $(DEBUG_KSFT)/settings); \
		sed -i "s/^timeout=.*/timeout=$$(( $${t:-45} * 3 ))/" $(DEBUG_KSFT)/settings; \
	fi; \
	mkdir -p $(DEBUG_MODSRC)/drivers/xen $(DEBUG_MODSRC)/include/uapi; \
	rsync -a --delete --exclude='*.mod.c' --include='*/' --include='*.[ch]' \
		--include=Makefile --include=Kbuild --include=Kconfig --exclude='*' \
		drivers/xen/ $(DEBUG_MODSRC)/drivers/xen/ && \
	rsync -a --delete include/uapi/ $(DEBUG_MODSRC)/include/uapi/ && \
	$(MAKE) -C $$DEBUG_KDIR M=$(DEBUG_MODSRC)/drivers/xen CONFIG_XEN_GRANT_DEV_ALLOC=m \
		modules || exit 1; \
	MODE=$(DEBUG_MODE) DEBUG=1 DRIVER=ours BUILD=$(DEBUG_BUILD) KABI=$$DEBUG_KABI \
		VMLINUZ=$$DEBUG_VMLINUZ KMODROOT=$$DEBUG_KMODROOT XEN_IMAGE=$(P_XEN_IMAGE) \
		BUSYBOX=$(P_BUSYBOX) MODULE=$(DEBUG_MODSRC)/drivers/xen/xen-gntalloc.ko \
		KSFT=$(if $(filter check-debug,$@),$(DEBUG_BUILD)/kselftest) DEMO= \
		PAYLOAD='$(if $(SCRIPT),$(abspath $(SCRIPT)))' VM_CPUS='$(VM_CPUS)' \
		VM_MEM='$(VM_MEM)' DOM0_MEM='$(DOM0_MEM)' VM_TIMEOUT='$(DEBUG_VM_TIMEOUT)' \
		SHELL_TIMEOUT='$(SHELL_TIMEOUT)' XEN_EXTRA='$(XEN_EXTRA)' \
		DOM0_EXTRA='$(DEBUG_DOM0_EXTRA) $(DOM0_EXTRA)' LOG_TAIL='$(LOG_TAIL)' \
		VM_FILES="$(GNTSTAT) $${VM_FILES:-}" $(QEMU_DIR)/vm.sh; rc=$$?; \
	echo "$@: $$(( $$(date +%s) - start )) s in all"; exit $$rc

.PHONY: check-debug vm-run-debug

run: $(OUR_MODULE) demo gntstat
	@$(call vm,run)

ifneq ($(filter vm-run,$(MAKECMDGOALS)),)
ifeq ($(wildcard $(SCRIPT)),)
$(error vm-run: say which file to run: make vm-run SCRIPT=path (now SCRIPT='$(SCRIPT)'))
endif
endif
vm-run: $(OUR_MODULE) demo gntstat
	@$(call vm,vm-run)

# The copied kselftest files go too: `make selftests` copies them again for KERNEL.
clean:
	rm -rf build
	cd drivers/xen 2>/dev/null && rm -f *.o .*.o *.ko *.mod *.mod.c .*.cmd Module.symvers \
		modules.order || true
	cd $(KSFT_DIR) && rm -rf lib.mk kselftest.h kselftest_harness.h kselftest_module.h \
		kselftest_deps.sh kselftest .kselftest-from


.PHONY: all help provision modules selftests demo gntstat check check-stock run vm-run clean

# ---- make bench: our driver against the stock one, same boot, per kernel ----
# (tools/xen/gntalloc-bench/; README "Performance"). One boot per kernel in KERNELS; in it the
# stock xen-gntalloc, then ours, run the same workloads; the host writes CSV, table and plot to
# BENCH_RESULTS/<kernel>/. Xen gets a grant table for 262k grants, dom0 memory for 200k pages.
KERNELS             ?= 6.1 6.12
BENCH_DIR           := tools/xen/gntalloc-bench
BENCH_RESULTS       ?= $(BENCH_DIR)/results
BENCH_SCALE         ?= 1
BENCH_ONLY          ?=
BENCH_DRIVERS       ?= stock ours
BENCH_PROFILE       ?= 1
BENCH_GNTTAB_FRAMES ?= 512
BENCH_VM_MEM        ?= 3072
BENCH_DOM0_MEM      ?= 2048M
BENCH_VM_TIMEOUT    ?= 1500
# The driver measured: drivers/xen and include/uapi as committed at this revision (colleagues
# edit the checkout while a run goes on), or `worktree` for the checkout as it is.
BENCH_DRIVER_REV    ?= HEAD

bench:
	@# every kernel measures the same commit, even if HEAD moves meanwhile
	@rev='$(BENCH_DRIVER_REV)'; [ "$$rev" = worktree ] || rev=$$(git rev-parse --verify "$$rev^{commit}") || exit 1; \
	start=$$(date +%s); \
	for k in $(KERNELS); do \
		$(MAKE) --no-print-directory bench-one KERNEL=$$k BENCH_DRIVER_REV=$$rev || exit 1; \
	done; \
	echo "bench: KERNELS='$(KERNELS)' took $$(( $$(date +%s) - start )) s"

bench-one: override DRIVER := ours
bench-one: override XEN_EXTRA += gnttab_max_frames=$(BENCH_GNTTAB_FRAMES)
bench-one: VM_MEM = $(BENCH_VM_MEM)
bench-one: DOM0_MEM = $(BENCH_DOM0_MEM)
bench-one: VM_TIMEOUT = $(BENCH_VM_TIMEOUT)
# `make modules` copies the module to MODULE: this run's own copy, which no other build touches
bench-one: MODULE := $(BUILD)/bench/xen-gntalloc.ko
bench-one: SCRIPT := $(BUILD)/bench/payload.sh
bench-one: $(if $(filter worktree,$(BENCH_DRIVER_REV)),modules) demo gntstat
	$(call provision,host libxen)
	@$(BENCH_DIR)/report.sh --need-gnuplot
	$(MAKE) -C $(BENCH_DIR) OUTPUT=$(BUILD)/bench XEN_CFLAGS='$(XEN_CFLAGS)' \
		XEN_LDLIBS='$(XEN_LDLIBS)'
	mkdir -p $(BUILD)/bench/run $(BUILD)/bench/profile
	@if [ '$(BENCH_DRIVER_REV)' != worktree ]; then \
		rm -rf $(BUILD)/bench/src && mkdir -p $(BUILD)/bench/src && \
		git archive '$(BENCH_DRIVER_REV)' drivers/xen include/uapi | tar -x -C $(BUILD)/bench/src && \
		$(MAKE) -C $(KDIR) M=$(BUILD)/bench/src/drivers/xen CONFIG_XEN_GRANT_DEV_ALLOC=m modules && \
		cp $(BUILD)/bench/src/drivers/xen/xen-gntalloc.ko $(MODULE) && \
		echo "bench: measuring drivers/xen as of $$(git rev-parse --short '$(BENCH_DRIVER_REV)')"; \
	fi
	printf '#!/bin/sh\n. /usr/bin/gntalloc-bench.env\nexec gntalloc-bench-guest.sh\n' >$(SCRIPT)
	printf 'export BENCH_SCALE=%s BENCH_ONLY=%s BENCH_DRIVERS="%s" BENCH_PROFILE=0\n' \
		'$(BENCH_SCALE)' '$(BENCH_ONLY)' '$(BENCH_DRIVERS)' >$(BUILD)/bench/run/gntalloc-bench.env
	printf 'export BENCH_SCALE=%s BENCH_ONLY=none BENCH_DRIVERS="%s" BENCH_PROFILE=1\n' \
		'$(BENCH_SCALE)' '$(BENCH_DRIVERS)' >$(BUILD)/bench/profile/gntalloc-bench.env
	@# The benchmark boot, then (BENCH_PROFILE=1) a boot for the ftrace profiles: tracing
	@# patches kernel text, which this test bed does not always survive. The report uses both.
	@rm -f $(BUILD)/bench/console.log $(BUILD)/bench/profile.log; \
	VM_FILES='$(BUILD)/bench/gntalloc-bench $(CURDIR)/$(BENCH_DIR)/gntalloc-bench-guest.sh $(BUILD)/bench/run/gntalloc-bench.env' \
		VM_LOG=$(BUILD)/bench/console.log $(call vm,vm-run); rc=$$?; \
	if [ $$rc = 0 ] && [ '$(BENCH_PROFILE)' = 1 ]; then \
		VM_FILES='$(BUILD)/bench/gntalloc-bench $(CURDIR)/$(BENCH_DIR)/gntalloc-bench-guest.sh $(BUILD)/bench/profile/gntalloc-bench.env' \
			VM_LOG=$(BUILD)/bench/profile.log $(call vm,vm-run) || \
			echo "bench: WARNING: the profile boot failed; no profile.txt ($(BUILD)/bench/profile.log)"; \
	fi; \
	cat $(BUILD)/bench/console.log $$(ls $(BUILD)/bench/profile.log 2>/dev/null) >$(BUILD)/bench/all.log; \
	$(BENCH_DIR)/report.sh $(BUILD)/bench/all.log $(BENCH_RESULTS)/$(KERNEL) \
		"$(if $(filter worktree,$(BENCH_DRIVER_REV)),the checkout: drivers/xen at $$(git log -1 --format=%h -- drivers/xen)$$(git status --porcelain -- drivers/xen include/uapi | grep -q . && echo +uncommitted),drivers/xen at $$(git log -1 --format=%h '$(BENCH_DRIVER_REV)' -- drivers/xen include/uapi) (checked out at $$(git rev-parse --short '$(BENCH_DRIVER_REV)')))" || rc=1; \
	exit $$rc

.PHONY: bench bench-one

# ---- Installing on a host: plain modules_install, or DKMS (README "Installing") ----
# INSTALL_KVER is the kernel to install for (the running one by default; its build tree is
# INSTALL_KDIR). The module goes to /lib/modules/<kver>/updates/, searched by depmod before
# the kernel's own drivers, so it takes precedence over the stock xen-gntalloc.
INSTALL_KVER ?= $(shell uname -r)
INSTALL_KDIR ?= /lib/modules/$(INSTALL_KVER)/build
DKMS_NAME    := xen-gntalloc
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_FILES   := dkms.conf Makefile Kconfig drivers/xen/Makefile drivers/xen/*.[ch] \
		include/uapi/xen/gntalloc.h

install:
	$(MAKE) -C $(INSTALL_KDIR) M=$(CURDIR)/drivers/xen CONFIG_XEN_GRANT_DEV_ALLOC=m modules
	$(MAKE) -C $(INSTALL_KDIR) M=$(CURDIR)/drivers/xen INSTALL_MOD_DIR=updates modules_install
	depmod -a $(INSTALL_KVER)

uninstall:
	rm -f /lib/modules/$(INSTALL_KVER)/updates/xen-gntalloc.ko*
	depmod -a $(INSTALL_KVER)

# $(call dkms_src,DIR): the module's sources as DKMS wants them in DIR/xen-gntalloc-VERSION.
dkms_src = rm -rf $(1)/$(DKMS_NAME)-$(DKMS_VERSION) && mkdir -p $(1)/$(DKMS_NAME)-$(DKMS_VERSION) && \
	cp --parents $(DKMS_FILES) $(1)/$(DKMS_NAME)-$(DKMS_VERSION)/

dkms-install:
	$(call provision,host)
	command -v dkms >/dev/null || apt-get install -y --no-install-recommends dkms
	-dkms remove -m $(DKMS_NAME) -v $(DKMS_VERSION) --all 2>/dev/null
	$(call dkms_src,/usr/src)
	dkms add -m $(DKMS_NAME) -v $(DKMS_VERSION)
	dkms install -m $(DKMS_NAME) -v $(DKMS_VERSION) -k $(INSTALL_KVER)

dkms-uninstall:
	dkms remove -m $(DKMS_NAME) -v $(DKMS_VERSION) --all

# Debian's dkms builds the module for KERNEL from the provisioned headers, in a private DKMS
# tree under BUILD (nothing is installed on this machine); check-dkms runs the suite with it.
DKMS_TREE  = $(BUILD)/dkms
DKMS_BUILT = $(BUILD)/dkms-xen-gntalloc.ko

dkms-build:
	$(call provision,host headers kernel)
	command -v dkms >/dev/null || apt-get install -y --no-install-recommends dkms
	rm -rf $(DKMS_TREE) && mkdir -p $(DKMS_TREE)
	$(call dkms_src,$(BUILD)/dkms-src)
	dkms build -m $(DKMS_NAME) -v $(DKMS_VERSION) -k $(P_KABI) --kernelsourcedir $(KDIR) \
		--dkmstree $(DKMS_TREE) --sourcetree $(BUILD)/dkms-src
	@ko=$$(ls $(DKMS_TREE)/$(DKMS_NAME)/$(DKMS_VERSION)/$(P_KABI)/*/module/xen-gntalloc.ko*) && \
	case $$ko in *.xz) xz -dc $$ko ;; *.zst) zstd -dc $$ko ;; *) cat $$ko ;; esac \
		>$(DKMS_BUILT) && echo "dkms-build: $$ko -> $(DKMS_BUILT)"

check-dkms: MODULE = $(DKMS_BUILT)
check-dkms: dkms-build selftests demo gntstat
	@$(call vm,check)

.PHONY: install uninstall dkms-install dkms-uninstall dkms-build check-dkms
