#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# report.sh LOG OUTDIR [DRIVER-VERSION] - turn the console log of one `make bench` boot into
#   OUTDIR/bench.csv	every point: median, p10, p90 per driver (one row per driver and point)
#   OUTDIR/table.txt	ours against stock, the speed-up, the floors, PASS/MISS per target
#   OUTDIR/w1-w2.png	log-log plot of workloads 1 and 2 against N, both drivers (gnuplot)
#   OUTDIR/w8.png	workload 8 per page against the window's size, both drivers and the floor
# and print the table.
# report.sh --need-gnuplot - install gnuplot-nox with apt-get if there is no gnuplot (idempotent).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

need_gnuplot() {
	command -v gnuplot >/dev/null && return 0
	[ "$(id -u)" = 0 ] || { echo "report: no gnuplot; please apt-get install gnuplot-nox" >&2; exit 1; }
	echo "report: installing gnuplot-nox" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends gnuplot-nox >&2 ||
		{ apt-get -o DPkg::Lock::Timeout=900 update -q >&2 || true
		  apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends gnuplot-nox >&2; }
}

if [ "${1:-}" = --need-gnuplot ]; then
	need_gnuplot
	exit 0
fi
[ $# -ge 2 ] || { echo "usage: $0 LOG OUTDIR [DRIVER-VERSION] | --need-gnuplot" >&2; exit 2; }
log=$1
out=$2
version=${3:-unknown}
mkdir -p "$out"

lines=$(tr -d '\r' <"$log" | grep -a -E '^BENCH(-INFO|-RAW|-PROFILE|-PROFILE-LOST)?,' || true)
info() { sed -n "s/^BENCH-INFO,$1,//p" <<<"$lines" | tail -n 1; }
kernel=$(info kernel)
[ -n "$kernel" ] || { echo "report: no benchmark output in $log" >&2; exit 1; }
date=$(date -u '+%Y-%m-%d %H:%M UTC')

# Every point pooled over the rounds (BENCH-RAW: driver,workload,param,metric,unit,batch,samples)
# into median, p10, p90. The canary (see gntalloc-bench.c) also becomes a slowdown against the
# fastest canary of the boot, for both drivers.
{
	echo "kernel,date,driver,workload,param,metric,unit,median,p10,p90,samples,batch"
	grep '^BENCH-RAW,' <<<"$lines" | awk -F, -v kd="$kernel,$date" '
	function pct(p,   pos, i) {
		pos = p * (n - 1); i = int(pos)
		if (i >= n - 1) return v[n - 1]
		return v[i] + (pos - i) * (v[i + 1] - v[i])
	}
	function stats(key, unit, batch, list, scale,   a, i, j, x) {
		n = split(list, a, " ")
		for (i = 0; i < n; i++) v[i] = a[i + 1] / scale
		for (i = 1; i < n; i++) {		# insertion sort: a few dozen samples
			x = v[i]
			for (j = i - 1; j >= 0 && v[j] > x; j--) v[j + 1] = v[j]
			v[j + 1] = x
		}
		printf "%s,%s,%s,%.4g,%.4g,%.4g,%d,%s\n", kd, key, unit, pct(0.5), pct(0.1), pct(0.9), n, batch
	}
	{
		key = $2 "," $3 "," $4 "," $5
		if (!(key in samples)) order[++nk] = key
		samples[key] = (key in samples) ? samples[key] " " $8 : $8
		unit[key] = $6; batch[key] = $7
		if ($3 == "canary") {
			m = split($8, a, " ")
			for (i = 1; i <= m; i++) if (best == "" || a[i] + 0 < best) best = a[i] + 0
		}
	}
	END {
		for (k = 1; k <= nk; k++) {
			key = order[k]
			if (key ~ /,guard,/) {	# counts: their sum over the rounds
				m = split(samples[key], a, " "); s = 0
				for (i = 1; i <= m; i++) s += a[i]
				printf "%s,%s,%s,%d,%d,%d,%d,%s\n", kd, key, unit[key], s, s, s, m, batch[key]
				continue
			}
			stats(key, unit[key], batch[key], samples[key], 1)
			if (key ~ /,canary,/) {
				split(key, f, ",")
				stats(f[1] ",canary,0,slowdown", "x", 1, samples[key], best)
			}
		}
	}'
} >"$out/bench.csv"
for d in stock ours; do
	grep -q "^[^,]*,[^,]*,$d,w1," "$out/bench.csv" ||
		echo "report: WARNING: no workload-1 results of the $d driver in $log" >&2
done

# The table. m[driver SUBSEP workload SUBSEP param SUBSEP metric] = median (lo = p10, hi = p90).
awk -F, -v kernel="$kernel" -v kver="$(info kernel-version)" -v date="$date" -v xen="$(info xen)" \
	-v cpus="$(info cpus)" -v mem="$(info memtotal-kb)" -v clk="$(info clocksource)" \
	-v version="$version" -v stockv="$(info driver-stock)" -v oursv="$(info driver-ours)" \
	-v scale="$(info scale)" -v rounds="$(info rounds)" -v icount="$(info icount)" '
function f(x) {
	if (x == "") return "-"
	x += 0
	if (x < 0 ? -x >= 1000 : x >= 1000) return sprintf("%.0f", x)
	if (x < 0 ? -x >= 100 : x >= 100) return sprintf("%.1f", x)
	if (x < 0 ? -x >= 10 : x >= 10) return sprintf("%.2f", x)
	return sprintf("%.3f", x)
}
function has(d, w, p, k) { return ((d, w, p, k) in m) }
function cell(d, w, p, k) {
	if (!has(d, w, p, k)) return "-"
	return f(m[d, w, p, k]) " [" f(lo[d, w, p, k]) ".." f(hi[d, w, p, k]) "]"
}
# do the p10..p90 ranges of the two drivers overlap?
function overlap(w, p, k) {
	return lo["ours", w, p, k] <= hi["stock", w, p, k] && lo["stock", w, p, k] <= hi["ours", w, p, k]
}
function row(name, w, p, k, floor, target, verdict,   s) {
	s = "-"
	if (has("ours", w, p, k) && has("stock", w, p, k) && m["ours", w, p, k] > 0)
		s = sprintf("%.2fx", m["stock", w, p, k] / m["ours", w, p, k])
	printf "%-34s %-27s %-27s %9s %-14s %-7s %s\n", name, cell("ours", w, p, k),
		cell("stock", w, p, k), s, target, verdict, floor
}
function judge(ok, noisy) {
	if (ok == "") return "n/a"
	nverdicts++
	if (!ok) { nmiss++; return "MISS" }
	return noisy ? "PASS~" : "PASS"
}
# speed-up target on one point: stock/ours >= want
function speedup(w, p, k, want,   ok) {
	if (!has("ours", w, p, k) || !has("stock", w, p, k)) return judge("")
	ok = m["stock", w, p, k] >= want * m["ours", w, p, k]
	return judge(ok, want == 1 && overlap(w, p, k))
}
function floorcell(x, ours) {
	if (x == "" || x <= 0) return ""
	return sprintf("floor %s (ours %.1fx)", f(x), ours / x)
}
NR > 1 {
	m[$3, $4, $5, $6] = $8; lo[$3, $4, $5, $6] = $9; hi[$3, $4, $5, $6] = $10
}
END {
	printf "gntalloc-bench: kernel %s (%s)\n", kernel, kver
	printf "date %s; Xen %s + PV dom0 under QEMU TCG, %s vCPUs, dom0 %d MB, clocksource %s\n",
		date, xen == "" ? "?" : xen, cpus, mem / 1024, clk
	printf "ours = %s (%s); stock = Debian xen-gntalloc (%s); same boot; scale %s\n",
		version, oursv, stockv, scale
	printf "rounds: %s (the drivers take turns: stock, ours, ours, stock...; samples pooled)\n", rounds
	if (icount != "")
		printf "time: QEMU -icount %s: every timing counts instructions executed (one takes 2^shift ns), not the host'"'"'s time\n", icount
	if (has("ours", "canary", 0, "slowdown") && has("stock", "canary", 0, "slowdown")) {
		printf "host interference (canary slowdown against its best, median/p90): ours %.2f/%.2f, stock %.2f/%.2f\n",
			m["ours", "canary", 0, "slowdown"], hi["ours", "canary", 0, "slowdown"],
			m["stock", "canary", 0, "slowdown"], hi["stock", "canary", 0, "slowdown"]
	}
	if (has("ours", "guard", 0, "samples-redone")) {
		printf "samples taken again because the host was busy: ours %d, stock %d; kept although disturbed (after 6 tries): ours %d, stock %d\n",
			m["ours", "guard", 0, "samples-redone"], m["stock", "guard", 0, "samples-redone"],
			m["ours", "guard", 0, "samples-disturbed"], m["stock", "guard", 0, "samples-disturbed"]
		if (m["ours", "guard", 0, "samples-disturbed"] + m["stock", "guard", 0, "samples-disturbed"] > 0)
			printf "WARNING: some samples were taken while the host was busy: noisier figures; rerun on a quiet host\n"
	}
	printf "cells: median [p10..p90]; speed-up = stock/ours (>1: ours faster); PASS~ = PASS, but the p10..p90 ranges overlap\n\n"
	printf "%-34s %-27s %-27s %9s %-14s %-7s %s\n", "workload", "ours", "stock", "speed-up",
		"target", "verdict", "floor (W7, ours phase)"
	fio = m["ours", "floor", 0, "rejected-ioctl"]
	fan = m["ours", "floor", 1, "anon-page-mmap-touch-munmap"]
	fan1k = m["ours", "floor", 1024, "anon-1024-pages-per-page"]
	k = "alloc1+dealloc1"
	split("0 1000 10000 100000 200000 1000000", ns, " ")
	for (i = 1; i <= 6; i++) {
		n = ns[i]; t = ""; v = ""
		if (n == 0) { t = ">= 0.98x"; v = speedup("w1", n, k, 0.98) }
		if (n == 100000) { t = ">= 30x"; v = speedup("w1", n, k, 30) }
		row("W1 ALLOC1+DEALLOC1 us, N=" n, "w1", n, k, floorcell(2 * fio, m["ours", "w1", n, k]), t, v)
	}
	if (has("ours", "w1", 200000, k) && has("ours", "w1", 0, k)) {
		r = m["ours", "w1", 200000, k] / m["ours", "w1", 0, k]
		printf "%-34s %-27s %-27s %9s %-14s %-7s\n", "W1 ours N=200k / ours N=0",
			sprintf("%.2f", r), has("stock", "w1", 0, k) ? sprintf("(stock %.1f)",
			m["stock", "w1", 200000, k] / m["stock", "w1", 0, k]) : "", "", "<= 1.3",
			judge(r <= 1.3)
	}
	if (has("ours", "w1", 1000000, k) && has("ours", "w1", 0, k)) {
		r = m["ours", "w1", 1000000, k] / m["ours", "w1", 0, k]
		printf "%-34s %-27s %-27s %9s %-14s %-7s\n", "W1 ours N=10^6 / ours N=0",
			sprintf("%.2f", r), has("stock", "w1", 1000000, k) ? sprintf("(stock %.1f)",
			m["stock", "w1", 1000000, k] / m["stock", "w1", 0, k]) : "", "", "<= 1.3",
			judge(r <= 1.3)
	}
	row("W1 diag, N=0: page offsets 1-63", "w1diag", 0, "offsets-1-63", "", "", "")
	row("W1 diag, N=0: offsets 4096 and up", "w1diag", 0, "offsets-4096-up", "", "", "")
	k = "xengntshr-share+touch+unshare"
	for (i = 1; i <= 6; i++) {
		n = ns[i]; t = ""; v = ""
		if (n == 0) { t = ">= 1x"; v = speedup("w2", n, k, 1) }
		if (n == 100000) { t = ">= 3x"; v = speedup("w2", n, k, 3) }
		row("W2 share+touch+unshare us, N=" n, "w2", n, k,
			floorcell(fan + 2 * fio, m["ours", "w2", n, k]), t, v)
	}
	row("W3 ALLOC 1024: us per page", "w3", 1024, "alloc-per-page",
		floorcell(fan1k, m["ours", "w3", 1024, "alloc-per-page"]), ">= 1x",
		speedup("w3", 1024, "alloc-per-page", 1))
	row("W3 DEALLOC 1024: us per page", "w3", 1024, "dealloc-per-page", "", "", "")
	row("W4 close(), 100k grants: ms", "w4", 100000, "close-ms", "", ">= 1x",
		speedup("w4", 100000, "close-ms", 1))
	row("W4 (its setup: us per grant)", "w4", 100000, "setup-alloc-per-grant", "", "", "")
	row("W5 ops/s, 1 process", "w5", 1, "ops-per-s", "", "", "")
	row("W5 ops/s, 2 processes", "w5", 2, "ops-per-s", "", "", "")
	k = "throughput-ratio-2-vs-1"
	printf "%-34s %-27s %-27s %9s %-14s %-7s\n", "W5 throughput 2 procs / 1 proc",
		cell("ours", "w5", 2, k), cell("stock", "w5", 2, k), "", ">= 1.5 (ours)",
		has("ours", "w5", 2, k) ? judge(m["ours", "w5", 2, k] >= 1.5) : judge("")
	k = "slab-bytes-per-grant"
	printf "%-34s %-27s %-27s %9s %-14s %-7s\n", "W6 Slab bytes per grant", cell("ours", "w6", 100000, k),
		cell("stock", "w6", 100000, k), "", "<= 64 (ours)",
		has("ours", "w6", 100000, k) ? judge(m["ours", "w6", 100000, k] <= 64) : judge("")
	row("W6  of which SUnreclaim", "w6", 100000, "sunreclaim-bytes-per-grant", "", "", "")
	row("W6  of which SReclaimable", "w6", 100000, "sreclaimable-bytes-per-grant", "", "", "")
	row("W6 free pages drop - 4096 (check)", "w6", 100000, "free-pages-drop-minus-page-bytes-per-grant", "", "", "")
	row("W6 PageTables+Vmalloc+Percpu+Stack", "w6", 100000, "pagetables+vmalloc+percpu+kstack-per-grant", "", "", "")
	k = "share+write+unshare-per-page"
	split("64 512 2025 8100", ws, " ")
	for (i = 1; i <= 4; i++) {
		n = ws[i]; t = ""; v = ""
		if (n == 2025 || n == 8100) { t = ">= 1.3x"; v = speedup("w8", n, k, 1.3) }
		row("W8 window " n " pages: us per page", "w8", n, k, floorcell(m["ours", "w8", n,
			"anon-floor-per-page"], m["ours", "w8", n, k]), t, v)
	}
	for (i = 3; i <= 4; i++) {
		n = ws[i]
		if (!has("ours", "w8", n, k) || !has("ours", "w8", n, "anon-floor-per-page"))
			continue
		r = m["ours", "w8", n, k] / m["ours", "w8", n, "anon-floor-per-page"]
		printf "%-34s %-27s %-27s %9s %-14s %-7s\n", "W8 " n " pages: ours / anon floor",
			sprintf("%.2f", r), has("stock", "w8", n, k) &&
			has("stock", "w8", n, "anon-floor-per-page") ? sprintf("(stock %.2f)",
			m["stock", "w8", n, k] / m["stock", "w8", n, "anon-floor-per-page"]) : "", "",
			"<= 1.0", judge(r <= 1.0)
	}
	split("alloc-ioctl mmap dealloc-ioctl write munmap", phs, " ")
	split("ALLOC ioctl|mmap|DEALLOC ioctl|write|munmap+release", phn, "|")
	for (i = 3; i <= 4; i++)
		for (j = 1; j <= 5; j++)
			row("W8 diag " ws[i] ": " phn[j], "w8diag", ws[i], phs[j] "-per-page", "", "",
				"")
	row("W9 500 buffers: us per frame", "w9", 500, "frame", "", "", "")
	row("W9 5000 buffers: us per frame", "w9", 5000, "frame", "", ">= 1.5x",
		speedup("w9", 5000, "frame", 1.5))
	# A stock driver that could not build the big file (gntalloc-bench.c: W9_SETUP_S) is
	# judged by its small one: it walks every grant of the file, so its big file is slower.
	if (!has("stock", "w9", 5000, "frame") && has("stock", "w9", 500, "frame") &&
	    has("ours", "w9", 5000, "frame"))
		printf "%-34s %-27s %-27s %9s %-14s %-7s\n", "W9 ours 5000 vs stock 500 (bound)",
			cell("ours", "w9", 5000, "frame"), cell("stock", "w9", 500, "frame"),
			sprintf("> %.2fx", m["stock", "w9", 500, "frame"] / m["ours", "w9", 5000, "frame"]),
			">= 1.5x", judge(m["stock", "w9", 500, "frame"] >= 1.5 * m["ours", "w9", 5000, "frame"])
	row("W7 floor: rejected ioctl us", "floor", 0, "rejected-ioctl", "", "", "")
	row("W7 floor: anon page mmap+munmap us", "floor", 1, "anon-page-mmap-touch-munmap", "", "", "")
	row("W7 floor: anon 1024 pages, per page", "floor", 1024, "anon-1024-pages-per-page", "", "", "")
	row("canary: user-space loop us", "canary", 0, "user-loop", "", "", "")
	printf "\ntargets: %d of %d PASS, %d MISS\n", nverdicts - nmiss, nverdicts, nmiss
}' "$out/bench.csv" >"$out/table.txt"
# W9 points a driver gave up (gntalloc-bench.c: W9_SETUP_S)
sed -n 's/^BENCH-INFO,w9-\([^,]*\),/W9 \1: /p' <<<"$lines" >>"$out/table.txt"

# BENCH_BASE_REV: every other driver against `base`, pooled (median [p10..p90]) and per round
# (the ratio of the round's medians: how much the host moved the figures between rounds).
if grep -q '^[^,]*,[^,]*,base,' "$out/bench.csv"; then
	grep '^BENCH-RAW,' <<<"$lines" | awk -F, '
	function med(list,   a, n, i, j, x) {
		n = split(list, a, " ")
		for (i = 2; i <= n; i++) {
			x = a[i] + 0
			for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]
			a[j + 1] = x
		}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	FNR == NR {	# bench.csv
		if (FNR > 1 && $4 != "canary" && $4 != "guard") {
			k = $4 "," $5 "," $6
			cell[$3, k] = sprintf("%.4g [%.4g..%.4g]", $8, $9, $10); m[$3, k] = $8
			if (!($3 in seen)) { seen[$3] = 1; if ($3 != "base" && $3 != "stock") drv[++nd] = $3 }
			if ($3 == "base") keys[++nk] = k
		}
		next
	}
	{ k = $3 "," $4 "," $5; r = ++nr[$2, k]; rm[$2, k, r] = med($8) }
	END {
		printf "\nbase = drivers/xen at BENCH_BASE_REV; ratio = base/driver (<1: the driver is slower); per round: the ratio of the medians of each round\n"
		for (i = 1; i <= nd; i++) {
			d = drv[i]
			printf "\n%-44s %-26s %-26s %6s  %s\n", "workload,N,metric", "base", d, "ratio", "per round"
			for (j = 1; j <= nk; j++) {
				k = keys[j]
				if (!((d, k) in m) || m[d, k] <= 0) continue
				pr = ""
				for (r = 1; (("base", k, r) in rm) && ((d, k, r) in rm); r++)
					pr = pr sprintf(" %.3f", rm["base", k, r] / rm[d, k, r])
				printf "%-44s %-26s %-26s %6.3f %s\n", k, cell["base", k], cell[d, k], m["base", k] / m[d, k], pr
			}
		}
	}' "$out/bench.csv" - >>"$out/table.txt"
fi

# The plot: N = 0 cannot sit on a log axis; it is drawn at N = 100 and labelled 0.
# points DRIVER WORKLOAD [OP]: a plot's points from the CSV, "x median p10 p90" sorted by x (N=0
# drawn at 100 on the log scale).
points() {
	awk -F, -v d="$1" -v w="$2" -v op="${3:-}" 'NR > 1 && $3 == d && $4 == w &&
		(op == "" || $6 == op) { print ($5 == 0 ? 100 : $5), $8, $9, $10 }' "$out/bench.csv" |
		sort -n
}
for d in ours stock; do
	for w in w1 w2; do
		points $d $w >"$out/.$w-$d.dat"
	done
done
fio=$(awk -F, '$3 == "ours" && $4 == "floor" && $6 == "rejected-ioctl" { print $8 }' "$out/bench.csv")
fan=$(awk -F, '$3 == "ours" && $4 == "floor" && $6 == "anon-page-mmap-touch-munmap" { print $8 }' "$out/bench.csv")
if command -v gnuplot >/dev/null && [ -s "$out/.w1-ours.dat" ] && [ -s "$out/.w1-stock.dat" ]; then
	(cd "$out" && gnuplot) <<-EOF
		set terminal pngcairo size 960,720 font "sans,11"
		set output "w1-w2.png"
		set title "xen-gntalloc on $kernel: cost of one operation while N grants are held (median, p10-p90)"
		set logscale xy
		set xrange [70:300000]
		set xtics ("0" 100, "1k" 1000, "10k" 10000, "100k" 100000, "200k" 200000)
		set xlabel "N, grants outstanding on another fd"
		set ylabel "microseconds per operation"
		set key below
		set grid
		plot ".w1-stock.dat" using 1:2:3:4 with yerrorlines lw 2 lc rgb "#d62728" pt 7 title "W1 ALLOC 1 + DEALLOC 1, stock", \
		     ".w1-ours.dat" using 1:2:3:4 with yerrorlines lw 2 lc rgb "#1f77b4" pt 7 title "W1 ALLOC 1 + DEALLOC 1, ours", \
		     ".w2-stock.dat" using 1:2:3:4 with yerrorlines lw 2 dt 2 lc rgb "#ff7f0e" pt 5 title "W2 libxengnttab share + touch + unshare, stock", \
		     ".w2-ours.dat" using 1:2:3:4 with yerrorlines lw 2 dt 2 lc rgb "#2ca02c" pt 5 title "W2 libxengnttab share + touch + unshare, ours", \
		     ${fio:-0} * 2 with lines dt 3 lc rgb "#7f7f7f" title "floor of W1: 2 rejected ioctls", \
		     ${fan:-0} + 2 * ${fio:-0} with lines dt 4 lc rgb "#000000" title "floor of W2: anon page mmap+touch+munmap + 2 ioctls"
	EOF
else
	echo "report: no plot (no gnuplot, or no W1 results of both drivers)" >&2
fi
rm -f "$out"/.w?-*.dat

# W8 per page against the window's size, both drivers and the anonymous floor (ours' phase).
for d in ours stock; do
	points $d w8 share+write+unshare-per-page >"$out/.w8-$d.dat"
done
points ours w8 anon-floor-per-page >"$out/.w8-floor.dat"
rm -f "$out/w8.png"
if command -v gnuplot >/dev/null && [ -s "$out/.w8-ours.dat" ] && [ -s "$out/.w8-stock.dat" ]; then
	(cd "$out" && gnuplot) <<-EOF
		set terminal pngcairo size 960,720 font "sans,11"
		set output "w8.png"
		set title "xen-gntalloc on $kernel: a window shared through libxengnttab, per page (median, p10-p90)"
		set logscale x
		set xrange [40:12000]
		set yrange [0:*]
		set xtics (64, 512, "2025 (1080p)" 2025, "8100 (4K)" 8100)
		set xlabel "window size, pages"
		set ylabel "microseconds per page: share + write + unshare"
		set key below
		set grid
		plot ".w8-stock.dat" using 1:2:3:4 with yerrorlines lw 2 lc rgb "#d62728" pt 7 title "stock", \
		     ".w8-ours.dat" using 1:2:3:4 with yerrorlines lw 2 lc rgb "#1f77b4" pt 7 title "ours", \
		     ".w8-floor.dat" using 1:2:3:4 with yerrorlines lw 2 dt 2 lc rgb "#000000" pt 5 title "floor: anonymous zeroed pages mmap + write + munmap"
	EOF
fi
rm -f "$out"/.w8-*.dat

# The ftrace profiles (BENCH_PROFILE=1), side by side per function.
rm -f "$out/profile.txt"
if grep -q '^BENCH-PROFILE,' <<<"$lines"; then
	grep -E '^BENCH-PROFILE(-LOST)?,' <<<"$lines" | awk -F, -v kernel="$kernel" -v date="$date" '
	$1 == "BENCH-PROFILE-LOST" { lost[$2, $3] = $4; next }
	{
		if (!(($3) in seen)) { seen[$3] = 1; profiles[++np] = $3 }
		if (!(($3, $4) in fseen)) { fseen[$3, $4] = 1; fn[$3, ++nf[$3]] = $4 }
		c[$2, $3, $4] = $5; t[$2, $3, $4] = $6; s[$2, $3, $4] = $8
		if ($6 > top[$3, $4]) top[$3, $4] = $6
	}
	function cell(d, p, f) {
		if (!((d, p, f) in t)) return sprintf("%7s %8s %8s", "-", "-", "-")
		return sprintf("%7.2f %8.2f %8.2f", c[d, p, f], t[d, p, f], s[d, p, f])
	}
	END {
		what["p1-light"] = "W1: ALLOC 1 + DEALLOC 1 at N=0, per operation; entry points only (ours: 4 traced calls per op, stock: 2)"
		what["p3-light"] = "W3: ALLOC 1024 + DEALLOC 1024, per page; entry points only"
		what["p4-light"] = "W4: close() of a file with 10k grants, per grant; entry points only"
		what["p1"] = "W1: ALLOC 1 + DEALLOC 1 at N=0, per operation (function_graph under gntalloc_ioctl)"
		what["p3"] = "W3: ALLOC 1024 + DEALLOC 1024, per page (function_graph under gntalloc_ioctl)"
		what["p4"] = "W4: close() of a file with 10k grants, per grant (function_graph under gntalloc_release)"
		what["p1-rcu"] = "W1: RCU callbacks (rcu_do_batch, softirq) and the slab frees in them; per operation"
		what["p3-rcu"] = "W3: RCU callbacks (rcu_do_batch, softirq) and the slab frees in them; per page"
		what["p4-rcu"] = "W4: RCU callbacks (rcu_do_batch, softirq) and the slab frees in them; per grant"
		printf "ftrace profiles, kernel %s, %s. Per function: calls (n), inclusive and self time (self = minus\n", kernel, date
		printf "its traced callees; untraceable callees such as xarray and user copies count as self), divided\n"
		printf "by the operations. Traced calls cost extra: compare the drivers, not with the table.\n"
		for (i = 1; i <= np; i++) {
			p = profiles[i]
			printf "\n%s\n%-36s %7s %8s %8s   %7s %8s %8s\n", what[p] ? what[p] : p, "function", "ours n",
				"incl us", "self us", "stock n", "incl us", "self us"
			# order: by the larger of the two times (selection sort; the lists are short)
			n = nf[p]
			for (j = 1; j <= n; j++) ord[j] = fn[p, j]
			for (j = 1; j <= n; j++)
				for (k = j + 1; k <= n; k++)
					if (top[p, ord[k]] > top[p, ord[j]]) { x = ord[j]; ord[j] = ord[k]; ord[k] = x }
			for (j = 1; j <= n; j++)
				printf "%-36s %s   %s\n", ord[j], cell("ours", p, ord[j]), cell("stock", p, ord[j])
			if (lost["ours", p] ~ /[1-9]/ || lost["stock", p] ~ /[1-9]/)
				printf "(ring buffer overruns: ours %s, stock %s)\n", lost["ours", p], lost["stock", p]
		}
	}' >"$out/profile.txt"
fi

cat "$out/table.txt"
echo "report: $out/bench.csv, $out/table.txt${fio:+, $out/w1-w2.png}$([ -f "$out/w8.png" ] && echo ", $out/w8.png")$([ -f "$out/profile.txt" ] && echo ", $out/profile.txt")"
