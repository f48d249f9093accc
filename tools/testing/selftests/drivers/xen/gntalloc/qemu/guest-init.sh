#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of a test-bed guest domain (a PV domU that dom0's tests make with xl create; busybox
# sh, the initramfs is all there is). Loads the stock Xen device modules and the same
# xen-gntalloc as dom0 (ours with insmod, the stock one with modprobe), then runs the role that
# its command line names (xdomain.role=ROLE: gntalloc_xdomain_guest ROLE). Its console goes to
# xenconsoled in dom0, which logs it to /var/log/xen/console/guest-<name>.log. The guest powers
# off when the role ends; a panic (panic_on_warn=1 oops=panic on its command line) makes Xen
# destroy it (on_crash="destroy"), which dom0's tests notice.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin

fail() {
	echo "guest-init: FAIL $*"
	poweroff -f
}

mount -t proc proc /proc && mount -t sysfs sysfs /sys && mount -t devtmpfs devtmpfs /dev ||
	fail "cannot mount /proc, /sys, /dev"
exec </dev/console >/dev/console 2>&1
mkdir -p /tmp /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug
. /etc/guest.conf

for m in xen-evtchn xenfs xen-gntdev; do
	modprobe "$m" || fail "modprobe $m failed"
done
mount -t xenfs xenfs /proc/xen || fail "cannot mount xenfs"
case $DRIVER in
ours) insmod /gntalloc/xen-gntalloc.ko || fail "insmod of our xen-gntalloc.ko failed" ;;
stock) modprobe xen-gntalloc || fail "modprobe of the stock xen-gntalloc failed" ;;
esac
[ -c /dev/xen/gntalloc ] || fail "no /dev/xen/gntalloc"

role=
for arg in $(cat /proc/cmdline); do
	case $arg in xdomain.role=*) role=${arg#xdomain.role=} ;; esac
done
echo "guest-init: $(uname -r), xen-gntalloc ($DRIVER), role '$role'"
rc=0
/usr/bin/gntalloc_xdomain_guest "$role" || rc=$?
echo "guest-init: role '$role' exited $rc"
poweroff -f
