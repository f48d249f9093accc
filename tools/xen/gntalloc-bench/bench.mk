# SPDX-License-Identifier: GPL-2.0
#
# make bench: our driver against the stock one, same boot, per kernel (README.md here),
# included by the top Makefile. One boot per kernel in BENCH_KERNELS; in it the stock
# xen-gntalloc, then ours, run the same workloads; the host writes CSV, table and plot to
# BENCH_RESULTS/<kernel>/. Xen gets a grant table for 2M grants (4096 frames of 512 entries),
# dom0 7 GB and QEMU 9 GB: W1 holds 10^6 grants, W9 a file of 1.3M (README.md here).

BENCH_RESULTS       ?= $(BENCH_DIR)/results
# KERNELS if given on the command line, else the kernels measured so far: 7.3 builds and boots the
# same way (make bench KERNELS=7.3) but has no results yet.
BENCH_KERNELS       ?= $(if $(filter command line,$(origin KERNELS)),$(KERNELS),6.1 6.12)
BENCH_SCALE         ?= 1
BENCH_ONLY          ?=
# A revision whose drivers/xen is measured too, as driver `base`, in the same boot (e.g. the
# merge-base of a branch: BENCH_BASE_REV=$$(git merge-base HEAD main)); empty: none.
BENCH_BASE_REV      ?=
# stock, ours, base, each with optional :TUNABLE=VALUE (ours:quarantine_ms=0): see the guest script
BENCH_DRIVERS       ?= stock $(if $(BENCH_BASE_REV),base) ours
BENCH_ROUNDS        ?= 2
BENCH_PROFILE       ?= 1
BENCH_GNTTAB_FRAMES ?= 4096
BENCH_VM_MEM        ?= 9216
BENCH_DOM0_MEM      ?= 7168M
BENCH_VM_TIMEOUT    ?= 3000
# QEMU's -icount for the benchmark boots (e.g. shift=0: one instruction, one nanosecond): every
# timing then counts the instructions executed, and the host's load cannot move it; boots take
# about twice as long (README.md here). Empty: the host's time.
BENCH_ICOUNT        ?=
# The driver measured: drivers/xen and include/uapi as committed at this revision (colleagues
# edit the checkout while a run goes on), or `worktree` for the checkout as it is.
BENCH_DRIVER_REV    ?= HEAD

bench: ## our driver against the stock one, per kernel of BENCH_KERNELS (tools/xen/gntalloc-bench/)
	@# every kernel measures the same commit, even if HEAD moves meanwhile
	@rev='$(BENCH_DRIVER_REV)'; [ "$$rev" = worktree ] || rev=$$(git rev-parse --verify "$$rev^{commit}") || exit 1; \
	base='$(BENCH_BASE_REV)'; [ -z "$$base" ] || base=$$(git rev-parse --verify "$$base^{commit}") || exit 1; \
	start=$$(date +%s); \
	for k in $(BENCH_KERNELS); do \
		$(MAKE) --no-print-directory bench-one KERNEL=$$k BENCH_DRIVER_REV=$$rev BENCH_BASE_REV=$$base || exit 1; \
	done; \
	echo "bench: BENCH_KERNELS='$(BENCH_KERNELS)' took $$(( $$(date +%s) - start )) s"

BENCH_BUILD = $(BUILD)/bench
# the VM_FILES of the benchmark boot (run) and of the profile boot (profile)
bench_files = $(BENCH_BUILD)/gntalloc-bench $(CURDIR)/$(BENCH_DIR)/gntalloc-bench-guest.sh $(BENCH_BUILD)/$(1)/gntalloc-bench.env \
	$(if $(BENCH_BASE_REV),$(BENCH_BUILD)/xen-gntalloc-base.ko)
bench_env = printf 'export BENCH_SCALE=%s BENCH_ONLY=%s BENCH_DRIVERS="%s" BENCH_PROFILE=%s BENCH_ROUNDS=%s BENCH_ICOUNT=%s\n' \
	'$(BENCH_SCALE)' '$(1)' '$(BENCH_DRIVERS)' $(2) '$(BENCH_ROUNDS)' '$(BENCH_ICOUNT)' >$(BENCH_BUILD)/$(3)/gntalloc-bench.env
# bench_build REV,DIR,KO: build drivers/xen as committed at REV in DIR, copy the module to KO
bench_build = rm -rf $(2) && mkdir -p $(2) && \
	git archive '$(1)' drivers/xen include/uapi | tar -x -C $(2) && \
	$(IN_KBUILD_ENV) $(MAKE) -C $(KDIR) M=$(2)/drivers/xen modules && \
	cp $(2)/drivers/xen/xen-gntalloc.ko $(3)

bench-one: override DRIVER := ours
bench-one: override XEN_EXTRA += gnttab_max_frames=$(BENCH_GNTTAB_FRAMES)
bench-one: VM_MEM = $(BENCH_VM_MEM)
bench-one: DOM0_MEM = $(BENCH_DOM0_MEM)
bench-one: VM_TIMEOUT = $(BENCH_VM_TIMEOUT)
# `make modules` copies the module to MODULE: this run's own copy, which no other build touches
bench-one: MODULE := $(BENCH_BUILD)/xen-gntalloc.ko
bench-one: SCRIPT := $(BENCH_BUILD)/payload.sh
bench-one: $(if $(filter worktree,$(BENCH_DRIVER_REV)),modules) demo gntstat ## (used by bench) one kernel
	@$(BENCH_DIR)/report.sh --need-gnuplot
	$(MAKE) -C $(BENCH_DIR) OUTPUT=$(BENCH_BUILD) XEN_CFLAGS='$(XEN_CFLAGS)' XEN_LDLIBS='$(XEN_LDLIBS)'
	mkdir -p $(BENCH_BUILD)/run $(BENCH_BUILD)/profile
	@if [ '$(BENCH_DRIVER_REV)' != worktree ]; then \
		$(call bench_build,$(BENCH_DRIVER_REV),$(BENCH_BUILD)/src,$(MODULE)) && \
		echo "bench: measuring drivers/xen as of $$(git rev-parse --short '$(BENCH_DRIVER_REV)')"; \
	fi
	@if [ -n '$(BENCH_BASE_REV)' ]; then \
		$(call bench_build,$(BENCH_BASE_REV),$(BENCH_BUILD)/base-src,$(BENCH_BUILD)/xen-gntalloc-base.ko) && \
		echo "bench: base = drivers/xen as of $$(git rev-parse --short '$(BENCH_BASE_REV)')"; \
	fi
	printf '#!/bin/sh\n. /usr/bin/gntalloc-bench.env\nexec gntalloc-bench-guest.sh\n' >$(SCRIPT)
	$(call bench_env,$(BENCH_ONLY),0,run)
	$(call bench_env,none,1,profile)
	@# The benchmark boot, then (BENCH_PROFILE=1) a boot for the ftrace profiles: tracing
	@# patches kernel text, which this test bed does not always survive. The report uses both.
	@rm -f $(BENCH_BUILD)/console.log $(BENCH_BUILD)/profile.log; \
	VM_FILES='$(call bench_files,run)' VM_LOG=$(BENCH_BUILD)/console.log QEMU_ICOUNT='$(BENCH_ICOUNT)' $(call vm,vm-run); rc=$$?; \
	if [ $$rc = 0 ] && [ '$(BENCH_PROFILE)' = 1 ]; then \
		VM_FILES='$(call bench_files,profile)' VM_LOG=$(BENCH_BUILD)/profile.log QEMU_ICOUNT='$(BENCH_ICOUNT)' $(call vm,vm-run) || \
			echo "bench: WARNING: the profile boot failed; no profile.txt ($(BENCH_BUILD)/profile.log)"; \
	fi; \
	cat $(BENCH_BUILD)/console.log $$(ls $(BENCH_BUILD)/profile.log 2>/dev/null) >$(BENCH_BUILD)/all.log; \
	$(BENCH_DIR)/report.sh $(BENCH_BUILD)/all.log $(BENCH_RESULTS)/$(KERNEL) \
		"$(if $(filter worktree,$(BENCH_DRIVER_REV)),the checkout: drivers/xen at $$(git log -1 --format=%h -- drivers/xen)$$(git status --porcelain -- drivers/xen include/uapi | grep -q . && echo +uncommitted),drivers/xen at $$(git log -1 --format=%h '$(BENCH_DRIVER_REV)' -- drivers/xen include/uapi) (checked out at $$(git rev-parse --short '$(BENCH_DRIVER_REV)')))" || rc=1; \
	exit $$rc

PARTS_bench-one := $(TESTBED_PARTS)

.PHONY: bench bench-one
