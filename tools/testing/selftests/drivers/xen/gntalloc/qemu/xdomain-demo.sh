#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# xdomain-demo.sh - what `make run` shows after gntalloc-demo: two domains sharing pages
# through our xen-gntalloc on both sides. dom0 makes a guest domain with xl (the test bed's
# guest initramfs, our module loaded in it), then libxenvchan carries data both ways: first
# the guest is the vchan server (its gntalloc shares the rings, dom0 maps them through
# gntdev), then dom0 is (dom0's gntalloc shares, the guest maps). The counters and gntstat -p
# are shown before, during (the server's rings shared, 16 pages a side plus the control page)
# and after. Exits non-zero on the first step that fails.
set -e

NAME=xdom-demo
BYTES=8388608
RING=65536
say() { echo "xdomain-demo: $*"; }

# cmd VERB ARGS...: one command to the guest's role (gntalloc_xdomain.h), its reply's text.
# (Called in $(...) too: the sequence number lives in a file, not in a variable.)
echo 0 >/tmp/$NAME.seq
cmd() {
	seq=$(($(cat /tmp/$NAME.seq) + 1))
	echo $seq >/tmp/$NAME.seq
	xenstore-write "$home/cmd" "$seq $*"
	i=0
	while :; do
		r=$(xenstore-read "$home/reply" 2>/dev/null || :)
		case $r in "$seq "*) break ;; esac
		i=$((i + 1))
		[ $i -lt 400 ] || { say "the guest did not answer '$*'"; return 1; }
		usleep 50000
	done
	r=${r#"$seq "}
	[ "${r%% *}" = 0 ] || { say "the guest answered '$*' with $r"; return 1; }
	echo "${r#* }"
}
guest_counters() { say "guest (domid $domid) in_use pending mapped open_files: $(cmd counters)"; }

cat >/tmp/$NAME.cfg <<EOC
name = "$NAME"
type = "pv"
kernel = "/xdomain/vmlinuz"
ramdisk = "/xdomain/guest.cpio.gz"
memory = 128
vcpus = 1
extra = "console=hvc0 rdinit=/init quiet panic_on_warn=1 oops=panic xdomain.role=server"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
EOC
say "xl create: a PV guest with our xen-gntalloc"
start=$(date +%s)
xl create -q /tmp/$NAME.cfg
domid=$(xl domid $NAME)
home=/local/domain/$domid/data/gntalloc
i=0
until [ "$(xenstore-read "$home/ready" 2>/dev/null)" = 1 ]; do
	i=$((i + 1))
	[ $i -lt 1200 ] || { say "the guest did not come up"; exit 1; }
	usleep 100000
done
say "guest $NAME is domain $domid, up in $(($(date +%s) - start)) s"
xl list
say "before: dom0"
gntstat
guest_counters

say "1. the guest serves a vchan (its gntalloc shares the rings), dom0 sends $BYTES bytes"
path=/local/domain/$domid/data/vchan1
cmd vchan-serve $path 1 $RING >/dev/null
until [ "$(xenstore-read "$home/vchan-ready" 2>/dev/null)" = 1 ]; do usleep 50000; done
say "during: the guest shares its rings with dom0"
guest_counters
start=$(date +%s)
gntalloc_xdomain_guest vchan-send $path "$domid" $BYTES 1
say "dom0 -> guest: $BYTES bytes, hash checked, in $(($(date +%s) - start)) s"

say "2. dom0 serves a vchan (our gntalloc shares the rings), the guest sends $BYTES bytes"
path=/local/domain/$domid/data/vchan2
xenstore-write /local/domain/0/data/gntalloc/vchan-ready 0
gntalloc_xdomain_guest vchan-serve $path "$domid" 1 $RING &
server=$!
until [ "$(xenstore-read /local/domain/0/data/gntalloc/vchan-ready 2>/dev/null)" = 1 ]; do
	usleep 50000
done
say "during: dom0 shares its rings with domain $domid"
gntstat
gntstat -p
start=$(date +%s)
cmd vchan-send $path $BYTES 2 >/dev/null
wait $server
say "guest -> dom0: $BYTES bytes, hash checked, in $(($(date +%s) - start)) s"

say "after: everything given back on both sides"
sleep 2
gntstat
gntstat -p
guest_counters
say "guest's kernel log: $(cmd health)"
xl destroy $NAME
say "guest destroyed"
