#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh - boot Xen with the Debian PV dom0 under QEMU (TCG), let init.sh do MODE's work,
# and judge the run from the console alone: QEMU's exit status says nothing (the guest ends
# every run with a reset, and QEMU exits 0 on -no-reboot).
#
# The top Makefile sets the environment: MODE (check | run | vm-run), DRIVER (ours | stock),
# BUILD, KABI, VMLINUZ, KMODROOT, XEN_IMAGE, BUSYBOX, MODULE, KSFT, DEMO, PAYLOAD, VM_CPUS,
# VM_MEM, DOM0_MEM, VM_TIMEOUT, SHELL_TIMEOUT, XEN_EXTRA, DOM0_EXTRA, LOG_TAIL; optionally
# VM_LOG (where the console log goes; default BUILD/MODE-DRIVER.log), VM_FILES (more files
# for dom0's /usr/bin, see mkinitramfs.sh) and QEMU_ROOT (below).
#
# A run fails if the guest's verdict line is missing or not PASS: that covers hangs (timeout),
# panics, oopses and WARNs (dom0 runs with panic_on_warn=1 oops=panic panic=-1). For MODE=check
# the KTAP on the console is turned into per-test results and "N passed, N failed" (ktap.awk).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LOCK=/tmp/xen-gntalloc-vm.lock
say() { echo "vm: $*"; }
die() {
	echo "vm: ERROR: $*" >&2
	exit 1
}

mkdir -p "$BUILD"
log=${VM_LOG:-$BUILD/$MODE-$DRIVER.log}
initrd=$BUILD/initramfs-$MODE.cpio

# Catch a module built against another tree here, not as "Invalid module format" in the guest.
# (No MODULE at all: our driver is built into the kernel, the built-in debug kernel's case.)
if [ "$DRIVER" = ours ] && [ -n "$MODULE" ]; then
	[ -f "$MODULE" ] || die "no $MODULE: run make modules"
	vermagic=$(modinfo -F vermagic "$MODULE")
	case "$vermagic " in
	"$KABI "*) ;;
	*) die "$MODULE is built for ${vermagic%% *}, the VM runs $KABI (KDIR=?)" ;;
	esac
fi
if [ "$MODE" = check ] && [ ! -s "$KSFT/list" ]; then
	die "the kselftest suite in $KSFT lists no tests"
fi

INTERACTIVE=0
[ "$MODE" = run ] && [ -t 0 ] && [ -t 1 ] && INTERACTIVE=1
export INTERACTIVE

xen_args="console=com1 com1=115200,8n1 dom0_mem=$DOM0_MEM,max:$DOM0_MEM"
xen_args="$xen_args dom0_max_vcpus=$VM_CPUS $XEN_EXTRA"
dom0_args="console=hvc0 earlyprintk=xen rdinit=/init panic_on_warn=1 oops=panic panic=-1"
dom0_args="$dom0_args $DOM0_EXTRA"
# -cpu max emulates SMAP/SMEP, which a PV dom0 under TCG does not survive. Xen is the
# multiboot kernel; dom0's kernel, its arguments and the initramfs are its modules (a comma
# inside the arguments must be doubled).
# QEMU_CPU comes from testbed.mk (no FSGSBASE when guest domains run: qemu/README.md, "Guest
# domains"); QEMU_ACCEL is for experiments. QEMU_ICOUNT (e.g. shift=0): QEMU's -icount, the
# guest's clocks (its TSC too) advance by instructions executed, not host time, so that the
# host's load cannot move a timing (make bench BENCH_ICOUNT=shift=0); it wants one TCG thread.
# QEMU_ROOT: a QEMU of another Debian release, flattened with its own libraries and firmware
# (provision.sh qemu-<v>); empty: the machine's.
qemu=(qemu-system-x86_64)
if [ -n "${QEMU_ROOT:-}" ]; then
	qemu=("$QEMU_ROOT/lib/ld-linux-x86-64.so.2" --library-path "$QEMU_ROOT/lib"
		"$QEMU_ROOT/bin/qemu-system-x86_64" -L "$QEMU_ROOT/share/qemu")
fi
qemu_version=$("${qemu[@]}" -version | sed -n '1s/.*version \([^ ]*\).*/\1/p')
[ -n "$qemu_version" ] || die "${qemu[*]} does not run"
if [ -n "${QEMU_ICOUNT:-}" ]; then
	qemu+=(-icount "$QEMU_ICOUNT")
	QEMU_ACCEL=${QEMU_ACCEL:-tcg,thread=single}
fi
qemu+=(-accel "${QEMU_ACCEL:-tcg,thread=multi}" -machine q35
	-cpu "${QEMU_CPU:-max,-smap,-smep}"
	-smp "$VM_CPUS" -m "$VM_MEM" -nographic -no-reboot -vga none -nic none
	-serial mon:stdio -kernel "$XEN_IMAGE" -append "$xen_args"
	-initrd "$VMLINUZ ${dom0_args//,/,,},$initrd")

limit=$VM_TIMEOUT
[ $INTERACTIVE = 0 ] || limit=$SHELL_TIMEOUT

# One VM at a time on this machine: it has 2 cores, and TCG wants them. The lock is held until
# this script exits, so that runs sharing a build directory do not mix their initramfs or log.
exec 8>>"$LOCK"
if ! flock -n 8; then
	say "another test-bed VM is running here; waiting for $LOCK"
	waited=$SECONDS
	flock -w 3600 8 || die "gave up waiting for $LOCK"
	say "waited $((SECONDS - waited))s for the VM lock"
fi
[ "$MODE" != check ] || rm -f "$BUILD/summary"
"$here/mkinitramfs.sh" "$initrd"

say "booting $KABI + $(basename "$XEN_IMAGE") in QEMU $qemu_version" \
	"(MODE=$MODE DRIVER=$DRIVER${QEMU_ICOUNT:+, icount $QEMU_ICOUNT}, limit ${limit}s, log $log)"
[ $INTERACTIVE = 0 ] || say "QEMU owns this terminal: Ctrl-A x quits, Ctrl-A h for help"
start=$SECONDS
set +e
if [ $INTERACTIVE = 1 ]; then
	timeout --foreground -k 10 "$limit" "${qemu[@]}" 2>&1 | tee "$log"
else
	timeout --foreground -k 10 "$limit" "${qemu[@]}" </dev/null 2>&1 | tee "$log"
fi
rc=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - start))

verdict=$(tr -d '\r' <"$log" | sed -n 's/^GNTALLOC-VERDICT: //p' | tail -n 1)
why=
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	why="timeout: no verdict after ${limit}s (VM_TIMEOUT)"
elif [ -z "$verdict" ]; then
	if grep -q 'Kernel panic' "$log"; then
		why="dom0 panicked: $(grep -a -m1 'Kernel panic' "$log" | tr -d '\r')"
	elif grep -q 'Hardware Dom0 crashed' "$log"; then
		why="dom0 crashed"
	else
		why="the VM ended without a verdict (QEMU exit status $rc)"
	fi
elif [ "$verdict" != PASS ]; then
	why=${verdict#FAIL }
fi

echo
if [ -n "$why" ]; then
	say "last ${LOG_TAIL} lines of $log:"
	tail -n "$LOG_TAIL" "$log" | tr -d '\r' | sed 's/^/  | /'
	say "FAIL after ${elapsed}s: $why"
else
	say "verdict PASS after ${elapsed}s"
fi

if [ "$MODE" = check ]; then
	echo
	say "results (KERNEL $KABI, DRIVER=$DRIVER):"
	awk -v list="$KSFT/list" -v summary="$BUILD/summary" -v extra="$why" \
		-f "$here/ktap.awk" "$log"
	read -r passed failed skipped <"$BUILD/summary"
	[ -z "$why" ] && [ "$failed" = 0 ] && [ "$skipped" = 0 ] && [ "$passed" != 0 ] || exit 1
else
	[ -z "$why" ] || exit 1
fi
