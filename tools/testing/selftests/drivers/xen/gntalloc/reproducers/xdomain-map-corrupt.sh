#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# xdomain-map-corrupt.sh - the test bed's dom0 memory corruption after cross-domain grant
# mappings (README.md here; qemu/README.md, "Guest domains"). A vm-run payload: it runs
# gntalloc_xdomain_repro STEP N [PAGES] (one guest, STEP done N times, a canary checked after
# each) while busybox shells fork in a loop, then reads the kernel log for segfaults. It showed
# that the grants are not needed (step none does as much harm) and that the canaries stay intact:
# xdomain-fork-segv.sh is the minimal reproducer.
#
#   make selftests
#   VM_FILES=build/6.1/selftests/gntalloc_xdomain_repro \
#	make vm-run XDOMAIN=1 DRIVER=stock QEMU_CPU=max,-smap,-smep \
#	SCRIPT=tools/testing/selftests/drivers/xen/gntalloc/reproducers/xdomain-map-corrupt.sh \
#	DOM0_EXTRA='REPRO_STEP=d2g REPRO_N=20'
#
# REPRO_STEP (g2d, d2g, d2g-ro, none; idle: no guest, N seconds; default d2g), REPRO_N (default 20), REPRO_PAGES
# (default 1) come from dom0's command line. Expected verdict where the bug is: FAIL
# ("/payload exited 1"), with "REPRO: CORRUPTED" or a segfault in the log.
step=${REPRO_STEP:-d2g}
n=${REPRO_N:-20}
pages=${REPRO_PAGES:-1}
echo "xdomain-map-corrupt: step $step, $n iterations, $pages pages; $(grep -c ^processor /proc/cpuinfo) vCPUs"
# Busybox forking meanwhile, as the kselftest runner does: the test bed's first victims.
(
	i=0
	while [ ! -e /tmp/repro-done ]; do
		sh -c 'x=$(echo a b c | wc -w); [ "$x" = 3 ] || echo "xdomain-map-corrupt: wc said $x"'
		i=$((i + 1))
	done
	echo "xdomain-map-corrupt: $i forks"
) &
rc=0
if [ "$step" = idle ]; then
	sleep "$n" # no guest, no grants: the fork loop alone for N seconds
else
	/usr/bin/gntalloc_xdomain_repro "$step" "$n" "$pages" || rc=$?
fi
touch /tmp/repro-done
wait
if dmesg | grep -E 'segfault|general protection|Bad page|BUG:'; then
	echo "xdomain-map-corrupt: the kernel log shows crashes"
	rc=1
fi
echo "xdomain-map-corrupt: exit $rc"
exit $rc
