# SPDX-License-Identifier: GPL-2.0
#
# ktap.awk - per-test results from the console log of a `make check` VM.
#
#   awk -v list=FILE -v summary=FILE [-v extra=WHY] -f ktap.awk console.log
#
# kselftest's runner prints, for each binary, "# selftests: DIR: BIN", then the binary's own
# KTAP indented by "# " ("# ok 3 fixture.name", "# not ok 4 ...", "# ok 5 name # SKIP why"), then
# its verdict on the binary: "ok|not ok N selftests: DIR: BIN [# SKIP|# TIMEOUT ...|# exit=N]".
#  - each subtest is one result, named "BIN: name";
#  - a binary that printed no subtests is one result itself;
#  - a binary that failed although no subtest did (crash, timeout, bad exit) adds a failure;
#  - a binary of the list (emit_tests output) that never finished or never started is a failure;
#  - extra, if given, is one more failure ("vm: WHY"): the VM itself went wrong.
# Prints "PASS|FAIL|SKIP  name" lines and "N passed, N failed[, N skipped]", and writes
# "passed failed skipped" to the file summary.

function result(status, name, why) {
	if (status == "PASS")
		passed++
	else if (status == "SKIP")
		skipped++
	else
		failed++
	printf "%s  %s%s\n", status, name, (why != "" ? "  (" why ")" : "")
}

# Split a KTAP result line "[not ]ok N name[ # directive]" into rs (PASS/FAIL/SKIP), rname, rwhy.
function parse(line,    d) {
	rs = (line ~ /^not ok/) ? "FAIL" : "PASS"
	sub(/^(not )?ok [0-9]+ */, "", line)
	rwhy = ""
	d = index(" " line, " # ")
	if (d) {
		rwhy = substr(line, d + 2)
		line = d > 1 ? substr(line, 1, d - 2) : ""
	}
	if (toupper(rwhy) ~ /^SKIP/) {
		rs = "SKIP"
		sub(/^[^ ]+ */, "", rwhy)
	}
	rname = line
}

{ sub(/\r+$/, "") }

# Only the runner's top-level output counts; the boot log before it cannot be mistaken for it.
/^TAP version/ { intap = 1 }
!intap { next }

/^# selftests: / {
	bin = $NF
	started[bin] = 1
	nsub = nfail = 0
	running = ""
	next
}

# kselftest_harness.h of 6.1 names a skipped test only in its "RUN" line ("ok 2 # SKIP why").
bin != "" && /^# #  RUN / {
	running = $4
	next
}

bin != "" && /^# (not )?ok [0-9]+/ {
	parse(substr($0, 3))
	if (rname == "")
		rname = running != "" ? running : "test " nsub + 1
	result(rs, bin ": " rname, rs == "PASS" ? "" : rwhy)
	nsub++
	if (rs == "FAIL")
		nfail++
	next
}

/^(not )?ok [0-9]+ selftests: / {
	parse($0)
	b = rname
	sub(/.*: /, "", b)
	finished[b] = 1
	if (nsub == 0)
		result(rs, b, rs == "PASS" ? "" : rwhy)
	else if (rs == "FAIL" && nfail == 0)
		result("FAIL", b, rwhy != "" ? "the binary failed: " rwhy : "the binary failed")
	bin = ""
}

END {
	while (list != "" && (getline t < list) > 0) {
		sub(/^[^:]*:/, "", t)
		if (t != "" && !finished[t])
			result("FAIL", t, started[t] ? "did not finish" : "not run")
	}
	if (extra != "")
		result("FAIL", "vm", extra)
	line = (passed + 0) " passed, " (failed + 0) " failed"
	if (skipped)
		line = line ", " skipped " skipped"
	print line
	if (summary != "")
		print passed + 0, failed + 0, skipped + 0 > summary
}
