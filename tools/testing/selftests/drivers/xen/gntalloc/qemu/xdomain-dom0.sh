# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# xdomain-dom0.sh - sourced by init.sh when the initramfs carries Xen's toolstack (XDOMAIN=1:
# make check, make run): start it in dom0 so that tests can make guest domains with xl, and
# show the guests' consoles at the end.
#
# The toolstack is Debian's, of the Xen under test, unpacked by provision.sh (toolstack) into
# /opt/xen/{bin,lib} with its own libc and loader (at /lib64: nothing else in dom0 is
# dynamic); /usr/sbin/<program> runs each with LD_LIBRARY_PATH=/opt/xen/lib. Start order: xenfs (init.sh), devpts (xenconsoled's ttys), xenstored, xen-init-dom0,
# xenconsoled.

# xdomain_start: 0 when xl answers, else 1 with the reason printed.
xdomain_start() {
	mkdir -p /dev/pts /var/run/xenstored /var/lib/xenstored /var/log/xen/console /var/run/xen \
		/var/lib/xen/dump /var/lock /run /etc/xen
	: >/etc/xen/xl.conf # the defaults; without the file xl says so at every call
	mount -t devpts -o ptmxmode=0666 devpts /dev/pts || { echo "xdomain: no devpts"; return 1; }
	rm -f /dev/ptmx
	ln -s pts/ptmx /dev/ptmx
	xenstored --pid-file /var/run/xenstored.pid || { echo "xdomain: xenstored failed"; return 1; }
	i=0
	until xenstore-read / >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "xdomain: xenstored does not answer"; return 1; }
		usleep 100000
	done
	xen-init-dom0 >/var/log/xen/xen-init-dom0.log 2>&1 ||
		{ echo "xdomain: xen-init-dom0 failed:"; cat /var/log/xen/xen-init-dom0.log; return 1; }
	xenconsoled --log=guest --log-dir=/var/log/xen/console ||
		{ echo "xdomain: xenconsoled failed"; return 1; }
	xl list >/dev/null || { echo "xdomain: xl list failed"; return 1; }
	echo "xdomain: toolstack up ($(xl info 2>/dev/null | sed -n 's/^xen_version *: //p'))," \
		"$(xl info 2>/dev/null | sed -n 's/^free_memory *: //p') MB free for guests"
}

# xdomain_consoles: every guest's console log, for the host's log (vm.sh keeps it).
xdomain_consoles() {
	for f in /var/log/xen/console/guest-*.log; do
		[ -e "$f" ] || continue
		n=${f##*/guest-}
		n=${n%.log}
		echo "xdomain: console of guest $n ($(wc -l <"$f") lines):"
		sed "s/^/  $n| /" "$f"
	done
}
