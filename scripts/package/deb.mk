# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages (debian/; README "Installing and operating"), included by the top Makefile:
#   make deb        xen-gntalloc-dkms_VERSION_all.deb and xen-gntalloc-tools_VERSION_amd64.deb in
#                   build/deb, built by dpkg-buildpackage (debhelper, dh-dkms), lintian-clean
#   make check-deb  those packages installed as a user would, in a fresh Debian root of KERNEL's
#                   release with KERNEL's kernel and headers: DKMS must build the module, purging
#                   must remove it (check-deb.sh); then the suite runs in the test bed with the
#                   module DKMS built, and promtool checks the --prometheus output that gntstat
#                   printed there, gntstat's made-up-tree test and the example alert rules.
# VERSION is dkms.conf's PACKAGE_VERSION (DKMS_VERSION): deb.sh writes debian/changelog from it.

DEB_DIR   := $(CURDIR)/build/deb
DEB_BUILT  = $(BUILD)/deb-xen-gntalloc.ko
DEB_LOG    = $(BUILD)/check-deb.log
DEB_PROM   = $(BUILD)/check-deb.prom
# KERNEL's Debian suite (kernels.mk): its release is the build root's
DEB_SUITE  = $(word 1,$(KERNEL_SOURCE_$(KERNEL)))
# The admin guide shows the alert rules file from its "groups:" line on, indented by two.
DEB_GUIDE  := Documentation/admin-guide/xen-gntalloc.rst
DEB_ALERTS := tools/xen/gntstat/gntalloc-alerts.yml

deb: ## build the .debs (xen-gntalloc-dkms, xen-gntalloc-tools) into build/deb; lintian must be clean
	scripts/package/deb.sh $(DEB_DIR)

# What gntstat printed in the suite (gntalloc_gntstat_test, between two marker lines that the
# runner prefixed with "# "), then promtool on it.
check-deb: MODULE = $(DEB_BUILT)
check-deb: deb selftests demo gntstat ## install the .debs in a fresh Debian root (DKMS builds the module), run the suite with it, promtool
	GNTALLOC_CACHE=$(GNTALLOC_CACHE) scripts/package/check-deb.sh $(DEB_DIR) $(P_KABI) \
		$(DEB_SUITE) $(DEB_BUILT)
	@VM_LOG=$(DEB_LOG) $(call vm,check)
	@tr -d '\r' <$(DEB_LOG) | sed -n '/^# gntstat-prometheus-begin$$/,/^# gntstat-prometheus-end$$/p' | \
		sed '1d;$$d' | sed -n 's/^# //p' >$(DEB_PROM)
	@[ -s $(DEB_PROM) ] || { echo 'check-deb: no gntstat --prometheus output in $(DEB_LOG)'; exit 1; }
	@p=$$(GNTALLOC_CACHE=$(GNTALLOC_CACHE) scripts/package/promtool.sh) && \
	$$p check metrics <$(DEB_PROM) && \
	echo "check-deb: promtool check metrics accepts gntstat's output in the test bed ($(DEB_PROM))" && \
	$(MAKE) --no-print-directory -C tools/xen/gntstat OUTPUT=$(BUILD)/gntstat check PROMTOOL=$$p
	@sed -n '/^groups:$$/,$$p' $(DEB_ALERTS) | sed '/^$$/d' >$(BUILD)/alerts-file.yml
	@awk '/^  groups:$$/ { on = 1 } on && /^[^ ]/ { exit } on { sub(/^  /, ""); print }' \
		$(DEB_GUIDE) | sed '/^$$/d' >$(BUILD)/alerts-guide.yml
	@cmp -s $(BUILD)/alerts-file.yml $(BUILD)/alerts-guide.yml || { echo 'check-deb: the alert' \
		'rules in $(DEB_GUIDE) are not those of $(DEB_ALERTS) (from "groups:" on)'; exit 1; }
	@echo 'check-deb: KERNEL=$(KERNEL) passed (packages, DKMS, suite, promtool)'

PARTS_check-deb := $(TESTBED_PARTS)

.PHONY: deb check-deb
