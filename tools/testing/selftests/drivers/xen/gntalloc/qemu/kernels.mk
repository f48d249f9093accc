# SPDX-License-Identifier: GPL-2.0
#
# The kernels and hypervisors the test bed knows, and where Debian ships them: the one table
# that the top Makefile (KERNEL, XEN, BUILD) and provision.sh both read. Adding a kernel is
# adding a line (README.md here, "Adding a kernel").
#
# KERNEL_SOURCE_<k> := SUITE METAPACKAGE XEN
#	the Debian suite and the metapackage there whose linux-image dependency names the
#	kernel's ABI (resolved afresh whenever the apt lists change: a new upload is picked up),
#	and the Xen of that kernel's own distribution, XEN's default for it.
#	A kernel from another Debian release than the machine's is built in a build root of its
#	release (debootstrap), with the compiler its headers name.
# XEN_SOURCE_<x> := SUITE
#	where xen-hypervisor-<x>-amd64 and the libxen-dev of the same Xen come from.
# QEMU_SOURCE_<v> := SUITE
#	a QEMU the VM can boot in (QEMU=<v>; QEMU=host is the machine's own): qemu-system-x86 <v>
#	of SUITE, run from the cache with its own libraries (provision.sh qemu-<v>).
KERNEL_SOURCE_6.1  := bookworm         linux-image-amd64      4.17
KERNEL_SOURCE_6.12 := bookworm         linux-image-6.12-amd64 4.17
KERNEL_SOURCE_7.3  := trixie-backports linux-image-amd64      4.20

XEN_SOURCE_4.17 := bookworm
XEN_SOURCE_4.20 := trixie

QEMU_SOURCE_10.0 := trixie
QEMU_SOURCE_11.1 := trixie-backports

KNOWN_KERNELS := $(sort $(patsubst KERNEL_SOURCE_%,%,$(filter KERNEL_SOURCE_%,$(.VARIABLES))))
KNOWN_XENS    := $(sort $(patsubst XEN_SOURCE_%,%,$(filter XEN_SOURCE_%,$(.VARIABLES))))
