#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /usr/bin/timeout in the guest. kselftest's runner.sh calls GNU "timeout --foreground SECS CMD"
# when /usr/bin/timeout exists; busybox's timeout knows no --foreground (it never moves the
# command to the background anyway) and reports a timeout as the killed command's status (143,
# SIGTERM) where GNU says 124, which the runner reports as "# TIMEOUT".
[ "$1" = --foreground ] && shift
busybox timeout "$@"
rc=$?
[ $rc = 143 ] && exit 124
exit $rc
