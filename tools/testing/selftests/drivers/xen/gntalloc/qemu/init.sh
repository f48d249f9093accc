#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test bed's dom0 (busybox sh; the initramfs is all there is).
#
# Loads the stock Xen device modules and a xen-gntalloc (ours with insmod, or the stock one with
# modprobe), then does what /etc/testbed.conf asks: run the kselftest suite, run the demo, or run
# one payload. Whatever happens, the last word on the console is one line
#	GNTALLOC-VERDICT: PASS		or	GNTALLOC-VERDICT: FAIL <why>
# and a reset (QEMU runs with -no-reboot, so it exits). The host trusts nothing else: a hang, a
# panic or an early reset leaves no verdict and fails the run.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=linux

verdict() {
	echo
	# The guests' consoles, when this run had guest domains (xdomain-dom0.sh).
	[ "${XDOMAIN:-0}" = 0 ] || ! command -v xdomain_consoles >/dev/null || xdomain_consoles
	echo "GNTALLOC-VERDICT: $*"
	sleep 1 # let the console drain before the reset
	reboot -f
	exit 1
}

panic() {
	echo "init: $*"
	verdict "FAIL $*"
}

mount -t proc proc /proc &&
	mount -t sysfs sysfs /sys &&
	mount -t devtmpfs devtmpfs /dev || panic "cannot mount /proc, /sys, /dev"
exec </dev/console >/dev/console 2>&1
# devtmpfs has no /dev/std*; kselftest's runner.sh logs to /dev/stdout.
ln -s /proc/self/fd /dev/fd
ln -s fd/0 /dev/stdin
ln -s fd/1 /dev/stdout
ln -s fd/2 /dev/stderr
mkdir -p /dev/shm /tmp /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug
[ -r /etc/testbed.conf ] || panic "no /etc/testbed.conf"
. /etc/testbed.conf

echo "init: dom0 $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPUs, MODE=$MODE DRIVER=$DRIVER"
for m in xen-evtchn xen-privcmd xenfs xen-gntdev; do
	modprobe "$m" || panic "modprobe $m failed"
done
mount -t xenfs xenfs /proc/xen || panic "cannot mount xenfs"

# Ours is built into the kernel when the initramfs has no module for it (the built-in debug
# kernel): a built-in module has /sys/module/<name>/ (its parameters) but no initstate.
case $DRIVER in
ours)
	if [ -e /gntalloc/xen-gntalloc.ko ]; then
		insmod /gntalloc/xen-gntalloc.ko || panic "insmod of our xen-gntalloc.ko failed"
	elif [ -d /sys/module/xen_gntalloc ] && [ ! -e /sys/module/xen_gntalloc/initstate ]; then
		echo "init: xen-gntalloc is built into the kernel"
	else
		panic "no xen-gntalloc.ko in the initramfs and none built into the kernel"
	fi
	;;
stock) modprobe xen-gntalloc || panic "modprobe of the stock xen-gntalloc failed" ;;
stock-patched) # the stock driver with tools/xen/stock-gntalloc-fix, built out of tree
	insmod /gntalloc/xen-gntalloc.ko || panic "insmod of the patched stock xen-gntalloc.ko failed"
	[ "$(cat /sys/module/xen_gntalloc/version 2>/dev/null)" = stock-gntalloc-fix ] ||
		panic "the patched stock xen-gntalloc.ko lacks its label (stock-fix-version.c)"
	;;
*) panic "DRIVER=$DRIVER?" ;;
esac
[ -c /dev/xen/gntalloc ] || panic "xen-gntalloc is loaded but /dev/xen/gntalloc is missing"
# Say which driver runs: ours is out-of-tree (taint O), the stock one is not (built in: neither).
echo "init: xen-gntalloc loaded ($DRIVER), taint '$(cat /sys/module/xen_gntalloc/taint 2>/dev/null)'," \
	"srcversion $(cat /sys/module/xen_gntalloc/srcversion 2>/dev/null || echo none)"

# xdomain: Xen's toolstack, for the runs whose initramfs carries it (xdomain-dom0.sh).
if [ "${XDOMAIN:-0}" = 1 ]; then
	. /xdomain-dom0.sh || panic "cannot read /xdomain-dom0.sh"
	xdomain_start || panic "Xen's toolstack did not start"
fi

# The kernel log is clean if nothing in it looks like a kernel bug or a leaked grant.
check_dmesg() {
	bad=$(dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|still in use')
	[ -z "$bad" ] && return 0
	echo "init: the kernel log shows trouble:"
	echo "$bad"
	return 1
}

# The kselftest suite in the order of its list.
run_suite() {
	(
		BASE_DIR=/kselftest
		. /kselftest/kselftest/runner.sh
		# shellcheck disable=SC2046
		run_many $(cat /kselftest/list)
	)
}

# make check-debug: the debug kernel's own run_suite and check_dmesg (lockdep phases,
# fault injection, kmemleak, the reports of the kernel log).
if [ "${DEBUG:-0}" = 1 ]; then
	. /init-debug.sh || panic "cannot read /init-debug.sh"
fi

rc=0
case $MODE in
check)
	echo "init: running the kselftest suite"
	cd /kselftest/drivers/xen/gntalloc || panic "no selftests in the initramfs"
	# kselftest's own runner (same release as the kernel), as `make run_tests` would use it.
	run_suite || rc=$?
	cd /
	echo "init: suite finished"
	[ $rc = 0 ] || panic "the kselftest runner failed ($rc)"
	;;
run)
	/usr/bin/gntalloc-demo || rc=$?
	# What an operator sees afterwards: the counters, then who holds grants.
	st=0
	echo "init: gntstat"
	gntstat || st=$?
	echo "init: gntstat -p"
	gntstat -p || st=$?
	# Two domains sharing through our driver on both sides (xdomain-demo.sh).
	xd=0
	if [ "${XDOMAIN:-0}" = 1 ]; then
		echo "init: xdomain-demo"
		xdomain-demo || xd=$?
	fi
	if [ "$INTERACTIVE" = 1 ]; then
		echo "init: a shell in dom0 (our xen-gntalloc is loaded; try gntalloc-demo, gntstat -w 1)."
		echo "init: leave with 'exit' (or Ctrl-A x to kill QEMU)"
		setsid cttyhack sh -l
	fi
	[ $rc = 0 ] || panic "gntalloc-demo failed ($rc)"
	[ $st = 0 ] || panic "gntstat failed ($st)"
	[ $xd = 0 ] || panic "xdomain-demo failed ($xd)"
	;;
vm-run)
	echo "init: running /payload"
	/payload || rc=$?
	echo "init: /payload exited $rc"
	[ $rc = 0 ] || panic "/payload exited $rc"
	;;
*) panic "MODE=$MODE?" ;;
esac

check_dmesg || panic "kernel log has warnings, oopses or leaked grants"
verdict PASS
