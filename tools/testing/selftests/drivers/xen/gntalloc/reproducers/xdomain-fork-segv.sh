#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# xdomain-fork-segv.sh - dom0's user processes read other processes' memory while a second
# PV domain runs, in the test bed (Xen PV under QEMU TCG). No grant is shared or mapped: the
# guest only runs. A vm-run payload (README.md here):
#
#   make selftests
#   make vm-run XDOMAIN=1 DRIVER=stock QEMU_CPU=max,-smap,-smep \
#	SCRIPT=tools/testing/selftests/drivers/xen/gntalloc/reproducers/xdomain-fork-segv.sh
#
# It forks busybox shells in a loop for REPRO_SECONDS (default 40) with no guest, then for as
# long again while one PV guest (the test bed's guest initramfs, role REPRO_ROLE, default
# "server": it polls xenstore every 5 ms) runs, from the time it is up, and counts the
# segfaults of each phase in the kernel log (those during the guest's boot and destruction count
# in phase 2). REPRO_* come from dom0's command line (DOM0_EXTRA). Expected verdict where the
# bug is: FAIL ("/payload exited 1"), segfaults in the second phase only.
secs=${REPRO_SECONDS:-40}
role=${REPRO_ROLE:-server}
cpus=$(grep -c ^processor /proc/cpuinfo)

# fork_loop SECONDS: busybox shells forking (and exec'ing applets) for SECONDS; prints the count.
fork_loop() {
	end=$(($(date +%s) + $1))
	i=0
	bad=0
	while [ "$(date +%s)" -lt $end ]; do
		x=$(sh -c 'echo a b c | wc -w' 2>/dev/null)
		[ "$x" = 3 ] || bad=$((bad + 1))
		i=$((i + 1))
	done
	echo "$i forks, $bad wrong answers"
}
segfaults() { dmesg | grep -c 'segfault at'; }

fsgs=no
grep -qw fsgsbase /proc/cpuinfo && fsgs=yes
echo "xdomain-fork-segv: dom0 $cpus vCPUs, $(uname -r), fsgsbase in cpuinfo: $fsgs, ${secs}s a phase"
s0=$(segfaults)
echo "xdomain-fork-segv: phase 1, no guest: $(fork_loop "$secs")"
s1=$(segfaults)
cat >/tmp/segv.cfg <<EOC
name = "segv"
type = "pv"
kernel = "/xdomain/vmlinuz"
ramdisk = "/xdomain/guest.cpio.gz"
memory = 128
vcpus = 1
extra = "console=hvc0 rdinit=/init quiet xdomain.role=$role"
on_poweroff = "preserve"
on_crash = "preserve"
EOC
xl create -q /tmp/segv.cfg || { echo "xdomain-fork-segv: xl create failed"; exit 2; }
# Phase 2 starts once the guest's role runs (role server says so in xenstore).
id=$(xl domid segv)
i=0
until [ "$(xenstore-read /local/domain/"$id"/data/gntalloc/ready 2>/dev/null)" = 1 ] || [ $i -ge 120 ]; do
	sleep 1
	i=$((i + 1))
done
echo "xdomain-fork-segv: guest $id created, up after ${i}s"
echo "xdomain-fork-segv: phase 2, a guest running: $(fork_loop "$secs")"
xl list
xl destroy segv
# Counted after the guest is gone: a segfault of the last loop's own processes (or of this
# count's) reaches the kernel log a moment later, and was once missed when counted at once.
s2=$(segfaults)
echo "xdomain-fork-segv: segfaults: $((s1 - s0)) without a guest, $((s2 - s1)) with one"
dmesg | grep 'segfault at' | head -5
[ $((s2 - s0)) = 0 ]
