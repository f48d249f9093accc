#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-fake-tree.sh GNTSTAT [PROMTOOL] - gntstat's output formats against a made-up sysfs and
# debugfs tree (GNTSTAT_SYSFS, GNTSTAT_DEBUGFS), where every value is known: the table, JSON
# and --prometheus (metric names and types, a per-domain column the driver does not have today,
# the atomic --prometheus=FILE, xen_gntalloc_up 0 without a driver). With PROMTOOL, promtool
# also checks the exposition and the alert rules (check rules, test rules). Needs no driver.
set -eu

gntstat=$(realpath "$1")
promtool=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "check-fake-tree: FAIL: $*" >&2
	exit 1
}

# The files gntstat reads are the UAPI's list; every value is 7 times its position.
names=$(sed -n 's/.*GNTALLOC_SYSFS_FILE(\([a-z_]*\), R[OW]).*/\1/p' \
	"$here/../../../include/uapi/xen/gntalloc.h")
[ -n "$names" ] || fail "no GNTALLOC_SYSFS_FILE in the UAPI header"
mkdir -p "$tmp/sys" "$tmp/debug"
i=1
for n in $names; do
	echo $((i * 7)) >"$tmp/sys/$n"
	i=$((i + 1))
done
# One column more than the driver writes today: new columns must appear unchanged.
printf '# domid grants pending quota quota_hits\n0 12 0 4294967295 0\n7 1024 3 2048 5\n' >"$tmp/debug/domains"
export GNTSTAT_SYSFS="$tmp/sys" GNTSTAT_DEBUGFS="$tmp/debug"

# in_use's value: 7 times its position in the list
in_use=$(($(printf '%s\n' $names | grep -nx in_use | cut -d: -f1) * 7))
"$gntstat" >"$tmp/table" || fail "gntstat exited $?"
grep -q "^in_use  *$in_use " "$tmp/table" || fail "table: $(cat "$tmp/table")"
"$gntstat" -j >"$tmp/json" || fail "gntstat -j exited $?"
grep -q "\"in_use\":$in_use," "$tmp/json" || fail "JSON: $(cat "$tmp/json")"

"$gntstat" --prometheus >"$tmp/prom" || fail "gntstat --prometheus exited $?"
# one family per name: a sysfs file and a debugfs column must not make the same metric
dup=$(grep '^# HELP ' "$tmp/prom" | cut -d' ' -f3 | sort | uniq -d)
[ -z "$dup" ] || fail "metric families named twice: $dup"
# metric, type, value
i=1
for n in $names; do
	v=$((i * 7))
	case $n in
	*_total) m=xen_gntalloc_$n t=counter ;;
	*_hits | *_failures | *_errors) m=xen_gntalloc_${n}_total t=counter ;;
	# milliseconds become seconds, Prometheus's base unit
	*_ms)
		m=xen_gntalloc_${n%_ms}_seconds t=gauge
		v=$(printf '%d.%03d' $((v / 1000)) $((v % 1000)))
		;;
	*) m=xen_gntalloc_$n t=gauge ;;
	esac
	grep -qx "# TYPE $m $t" "$tmp/prom" || fail "no '# TYPE $m $t'"
	grep -q "^# HELP $m ." "$tmp/prom" || fail "no HELP for $m"
	grep -qx "$m $v" "$tmp/prom" || fail "no '$m $v'"
	i=$((i + 1))
done
for want in 'xen_gntalloc_up 1' 'xen_gntalloc_domain_stats_available 1' \
	'# TYPE xen_gntalloc_domain_grants gauge' 'xen_gntalloc_domain_grants{domid="7"} 1024' \
	'xen_gntalloc_domain_pending{domid="7"} 3' '# TYPE xen_gntalloc_domain_quota_hits_total counter' \
	'xen_gntalloc_domain_quota_hits_total{domid="0"} 0' \
	'xen_gntalloc_domain_quota_hits_total{domid="7"} 5'; do
	grep -qxF "$want" "$tmp/prom" || fail "no '$want' in: $(cat "$tmp/prom")"
done

# To a file: the same text, mode 0644, no temporary file left, an old file replaced.
mkdir "$tmp/textfile"
echo old >"$tmp/textfile/gntalloc.prom"
"$gntstat" --prometheus="$tmp/textfile/gntalloc.prom" || fail "--prometheus=FILE exited $?"
cmp -s "$tmp/prom" "$tmp/textfile/gntalloc.prom" || fail "FILE differs from stdout"
[ "$(stat -c %a "$tmp/textfile/gntalloc.prom")" = 644 ] || fail "FILE is not mode 644"
[ "$(ls "$tmp/textfile")" = gntalloc.prom ] || fail "left behind: $(ls "$tmp/textfile")"
if "$gntstat" --prometheus="$tmp/nodir/gntalloc.prom" 2>/dev/null; then
	fail "--prometheus into a missing directory succeeded"
fi

# No debugfs: no per-domain metrics, and it says so.
GNTSTAT_DEBUGFS=$tmp/none "$gntstat" --prometheus >"$tmp/prom-nodebug" || fail "exited $?"
grep -qx 'xen_gntalloc_domain_stats_available 0' "$tmp/prom-nodebug" || fail "debugfs missing"
! grep -q '^xen_gntalloc_domain_grants' "$tmp/prom-nodebug" || fail "domains without debugfs"

# No driver: xen_gntalloc_up 0, exit status 1, the file replaced all the same.
rc=0
GNTSTAT_SYSFS=$tmp/none "$gntstat" --prometheus="$tmp/textfile/gntalloc.prom" 2>/dev/null || rc=$?
[ $rc = 1 ] || fail "without a driver --prometheus=FILE exited $rc, not 1"
grep -qx 'xen_gntalloc_up 0' "$tmp/textfile/gntalloc.prom" || fail "no 'xen_gntalloc_up 0'"

if [ -n "$promtool" ]; then
	for f in "$tmp/prom" "$tmp/prom-nodebug" "$tmp/textfile/gntalloc.prom"; do
		"$promtool" check metrics <"$f" || fail "promtool check metrics rejects $f"
	done
	"$promtool" check rules "$here/gntalloc-alerts.yml" >/dev/null ||
		fail "promtool check rules gntalloc-alerts.yml"
	(cd "$here" && "$promtool" test rules gntalloc-alerts.test.yml >/dev/null) ||
		fail "promtool test rules gntalloc-alerts.test.yml"
fi
echo "check-fake-tree: gntstat's table, JSON and Prometheus output are right${promtool:+ (and promtool accepts them)}"
