#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkseries.sh - write the upstream patch series (`make patches`): our driver, UAPI header,
# documentation and selftests as `git format-patch` files against a kernel tree, in the order
# and with the messages of scripts/upstream.series. The series is only ever generated: change
# the sources or upstream.series, never a patch.
#
# Environment (scripts/patches.mk sets it):
#   PRISTINE   the kernel as a bare git repository whose tag "base" is the tree to patch
#              (provision.sh pristine: Debian's linux-source-7.3)
#   BASE_NAME  what the base is, for the cover letter ("Debian's linux-source-7.3 7.3.4-1~bpo13+1")
#   WORK       a clone of PRISTINE to commit in, made if missing, reset on every run
#   OUT        where the patches go (emptied first)
#   SUBMITTER  "Name <email>": author, Signed-off-by and MAINTAINERS entry of every patch
#              (default a placeholder that a submitter must replace: README, "Sending upstream")
#   REROLL     optional: the series' version, e.g. 2 for [PATCH v2 ...]
# Run from the top of our tree. The commits get the date of our HEAD commit, so the same tree
# gives the same patches byte for byte.
set -euo pipefail

: "${PRISTINE:?}" "${WORK:?}" "${OUT:?}" "${BASE_NAME:?}"
SUBMITTER=${SUBMITTER:-Your Name <your.name@example.org>}
REROLL=${REROLL:-}
SERIES=${SERIES:-scripts/upstream.series}
OURS=$PWD
MNT_NAME="XEN GRANT REFERENCE ALLOCATOR DRIVER (GNTALLOC)"

say() { printf 'mkseries: %s\n' "$*" >&2; }
die() {
	printf 'mkseries: ERROR: %s\n' "$*" >&2
	exit 1
}
[ -f "$SERIES" ] || die "no $SERIES (run from the top of the tree)"
case $SUBMITTER in *' <'*'@'*'>') ;; *) die "SUBMITTER must be 'Name <email>', not '$SUBMITTER'" ;; esac
command -v unifdef >/dev/null || die "unifdef is missing (patches.mk installs it)"

# git in the kernel clone, as the submitter, on our HEAD's date
date=$(git log -1 --format=%cI)
who_name=${SUBMITTER% <*}
who_email=${SUBMITTER##*<}
who_email=${who_email%>}
kgit() {
	GIT_AUTHOR_NAME=$who_name GIT_AUTHOR_EMAIL=$who_email GIT_AUTHOR_DATE=$date \
		GIT_COMMITTER_NAME=$who_name GIT_COMMITTER_EMAIL=$who_email GIT_COMMITTER_DATE=$date \
		git -C "$WORK" "$@"
}

# The clone: --shared borrows PRISTINE's objects. Back to base, nothing else left in it; only
# the files the series touches change (and get new times).
if [ ! -d "$WORK/.git" ]; then
	rm -rf "$WORK"
	say "cloning $PRISTINE into $WORK (a minute: it checks out the whole tree)"
	git clone -q --shared --no-checkout "$PRISTINE" "$WORK"
fi
git -C "$WORK" fetch -q "$PRISTINE" tag base --no-tags 2>/dev/null ||
	git -C "$WORK" fetch -q "$PRISTINE" "refs/tags/base:refs/tags/base"
git -C "$WORK" checkout -q -f -B gntalloc base
git -C "$WORK" clean -q -f -d -x

# ---- the operations of upstream.series; FILES holds what the patch copied so far

# copy PATHSPEC... [!SUBDIR...]: what git tracks in our tree under the pathspecs, without the
# SUBDIRs (of the first pathspec) named with a "!"
op_copy() {
	local f a specs=()
	for a in "$@"; do
		case $a in
		!*) specs+=(":(exclude)$1/${a#!}") ;;
		*) specs+=("$a") ;;
		esac
	done
	FILES=$(git ls-files -- "${specs[@]}")
	[ -n "$FILES" ] || die "copy $*: no file of ours matches"
	for f in $FILES; do
		mkdir -p "$WORK/$(dirname "$f")"
		cp "$f" "$WORK/$f"
		# -f: Debian's tree ignores everything new at its top (its .gitignore, for packaging)
		git -C "$WORK" add -f "$f"
	done
}

op_remove() {
	[ -e "$WORK/$1" ] || die "remove $1: the kernel tree has no such file"
	git -C "$WORK" rm -q "$1"
}

# resolve-probes MAKEFILE: our Kbuild file tells compile-time probes of kernel APIs apart from
# version numbers (-DGNTALLOC_HAVE_X when the API is there, -DNAME=VALUE for a spelling). In
# the kernel tree there is one kernel: evaluate the probes against it, with make itself, and
# fold the answers into the copied C files; the in-tree Makefile (kbuild) carries no probe.
op_resolve_probes() {
	local flags d args='' f
	flags=$(make -s --no-print-directory -f - srctree="$WORK" src=. <<-EOF
		include $OURS/$1
		\$(info \$(ccflags-y))
		all: ;
	EOF
	)
	for d in $flags; do
		case $d in
		-D*=*) d=${d#-D}; args="$args -D${d%%=*}=${d#*=}" ;;
		-D*) args="$args $d" ;;
		esac
	done
	# probes that found nothing: the macro is not defined at all
	for d in $(sed -n 's/.*-D\(GNTALLOC_HAVE_[A-Z0-9_]*\).*/\1/p' "$1"); do
		case " $args " in *" -D$d "*) ;; *) args="$args -U$d" ;; esac
	done
	say "probes against the tree:${args:- none}"
	for f in $FILES; do
		case $f in *.c | *.h) ;; *) continue ;; esac
		# shellcheck disable=SC2086 # a list of -D/-U
		unifdef -m $args "$WORK/$f" || [ $? = 1 ] || die "unifdef $f failed"
		# a block that went leaves its blank lines behind: one is enough
		cat -s "$WORK/$f" >"$WORK/$f.new" && mv "$WORK/$f.new" "$WORK/$f"
		# valued macros (-DNAME=VALUE) are words in the code, not #if's
		for d in $args; do
			case $d in -D*=*) ;; *) continue ;; esac
			d=${d#-D}
			if [ -n "${d#*=}" ]; then
				sed -i -E "s/\\b${d%%=*}\\b/${d#*=}/g" "$WORK/$f"
			else
				sed -i -E "s/\\b${d%%=*}\\b ?//g" "$WORK/$f"
			fi
		done
	done
}

# kconfig KCONFIG: our entry (config SYMBOL and what follows) replaces the tree's entry of that
# symbol in the Kconfig file of the driver's directory.
op_kconfig() {
	local sym kc=$WORK/drivers/xen/Kconfig
	sym=$(sed -n 's/^config //p' "$1")
	[ "$(wc -w <<<"$sym")" = 1 ] || die "kconfig $1: one config entry expected"
	grep -q "^config $sym\$" "$kc" || die "kconfig: $kc has no $sym"
	# the tree's entry ends at the next statement that starts in column 0
	awk -v sym="$sym" -v ours="$1" '
		$0 == "config " sym {
			while ((getline l < ours) > 0)
				if (l ~ /^config /) { print l; copy = 1 } else if (copy) print l
			skip = 1; next
		}
		skip && /^[^ \t]/ { skip = 0; print "" }
		!skip { print }' "$kc" >"$kc.new"
	mv "$kc.new" "$kc"
	grep -q "^config $sym\$" "$kc" || die "kconfig: lost $sym"
}

# kbuild MAKEFILE: the objects of our module and their per-object flags, as our Kbuild file
# says, replace the tree's "xen-gntalloc-y := gntalloc.o"; the obj- line stays the tree's.
op_kbuild() {
	local objs cflags mk=$WORK/drivers/xen/Makefile
	objs=$(make -s --no-print-directory -f - srctree="$WORK" src='$$(src)' <<-EOF
		include $OURS/$1
		\$(info \$(xen-gntalloc-y))
		all: ;
	EOF
	)
	cflags=$(make -s --no-print-directory -f - srctree="$WORK" src='$$(src)' <<-EOF
		include $OURS/$1
		\$(foreach v,\$(filter CFLAGS_%,\$(.VARIABLES)),\$(info \$(v)	:= \$(value \$(v))))
		all: ;
	EOF
	)
	[ -n "$objs" ] || die "kbuild $1: no xen-gntalloc-y"
	grep -q '^xen-gntalloc-y' "$mk" || die "kbuild: $mk has no xen-gntalloc-y"
	awk -v objs="$objs" -v cflags="$cflags" '
		/^xen-gntalloc-y/ {
			n = split(objs, o, " "); line = "xen-gntalloc-y\t\t\t\t:="
			for (i = 1; i <= n; i++) {
				if (length(line " " o[i]) > 78) { print line " \\"; line = "\t\t\t\t\t " }
				line = line " " o[i]
			}
			print line
			if (cflags != "") {
				# define_trace.h includes the trace header again by its directory
				m = split(cflags, c, "\n")
				for (i = 1; i <= m; i++) { sub(/\t/, "\t\t", c[i]); print c[i] }
			}
			next
		}
		{ print }' "$mk" >"$mk.new"
	mv "$mk.new" "$mk"
}

# kernelversion: the ABI files say in which release they appear: the one after the base.
op_kernelversion() {
	local v next f
	v=$(sed -n 's/^VERSION = //p;s/^PATCHLEVEL = //p' "$WORK/Makefile" | paste -sd.)
	next=${v%.*}.$((${v#*.} + 1))
	for f in $FILES; do
		case $f in Documentation/ABI/*) sed -i "s/^KernelVersion:.*/KernelVersion:\t$next/" "$WORK/$f" ;; esac
	done
}

# toctree INDEX AFTER: each copied page of INDEX's directory after the entry AFTER
op_toctree() {
	local index=$WORK/$1 after=$2 dir f entries=''
	dir=$(dirname "$1")
	for f in $FILES; do
		[ "$(dirname "$f")" = "$dir" ] && case $f in *.rst) entries="$entries $(basename "$f" .rst)" ;; esac
	done
	[ -n "$entries" ] || die "toctree $1: no page of $dir was copied"
	grep -q "^   $after\$" "$index" || die "toctree: $1 has no entry $after"
	awk -v after="$after" -v entries="$entries" '
		{ print }
		$0 == "   " after { n = split(entries, e, " "); for (i = 1; i <= n; i++) print "   " e[i] }' \
		"$index" >"$index.new"
	mv "$index.new" "$index"
}

# targets: the copied selftest directory after the last drivers/ target of the selftests
op_targets() {
	local mk=$WORK/tools/testing/selftests/Makefile t
	t=$(dirname "$(echo "$FILES" | grep -m1 '^tools/testing/selftests/.*/Makefile$')")
	t=${t#tools/testing/selftests/}
	awk -v t="$t" '
		{ lines[NR] = $0 } /^TARGETS \+= drivers\// { last = NR }
		END { for (i = 1; i <= NR; i++) { print lines[i]; if (i == last) print "TARGETS += " t } }' \
		"$mk" >"$mk.new"
	mv "$mk.new" "$mk"
}

# maintainers PATTERN...: F: lines of our entry, made at its alphabetical place when missing
op_maintainers() {
	local m=$WORK/MAINTAINERS pats
	pats=$(printf '%s\n' "$@" | LC_ALL=C sort)
	# An entry's first line is its name, in capitals, and the next one a "X:\t" field.
	LC_ALL=C awk -v name="$MNT_NAME" -v who="$SUBMITTER" -v pats="$pats" '
		function entry(  i, n, p) {
			print name
			print "M:\t" who
			print "L:\txen-devel@lists.xenproject.org (moderated for non-subscribers)"
			print "S:\tMaintained"
			n = split(pats, p, "\n")
			for (i = 1; i <= n; i++)
				if (!(("F:\t" p[i]) in had))
					old = old "F:\t" p[i] "\n"
			# F: lines sorted, the ones we had and the new ones
			n = split(old, p, "\n"); s = ""
			for (i = 1; i <= n; i++) if (p[i] != "") s = s p[i] "\n"
			printf "%s", s | "LC_ALL=C sort"; close("LC_ALL=C sort")
			print ""
			done = 1
		}
		$0 == name { inside = 1; next }
		inside && /^F:\t/ { had[$0] = 1; old = old $0 "\n"; next }
		inside && /^$/ { inside = 0; next }
		inside { next }
		{ lines[++nl] = $0 }
		END {
			for (i = 1; i <= nl; i++) {
				if (!done && lines[i - 1] == "" && lines[i + 1] ~ /^[A-Z]:\t/ &&
				    lines[i] ~ /^[A-Z0-9]/ && lines[i] > name && lines[i] != "THE REST")
					entry()
				print lines[i]
			}
			if (!done) exit 1
		}' "$m" >"$m.new" || die "maintainers: no place for our entry in MAINTAINERS"
	mv "$m.new" "$m"
}

# ---- the series: upstream.series split into stanzas, each applied and committed

stanzas=$(mktemp -d)
trap 'rm -rf "$stanzas"' EXIT
awk -v d="$stanzas" '
	/^== (cover|patch)$/ { n++; f = sprintf("%s/%02d-%s", d, n, $2); next }
	!f || /^#/ && !started[f] { next }
	/^% / { print substr($0, 3) > (f ".ops"); next }
	{ started[f] = 1; print > (f ".msg") }' "$SERIES"

# the cover letter's fill-ins
bench_table() {
	local t k
	k=$(ls tools/xen/gntalloc-bench/results 2>/dev/null | sort -V | tail -n 1)
	t=tools/xen/gntalloc-bench/results/$k/table.txt
	[ -f "$t" ] || { echo "(no benchmark results in tools/xen/gntalloc-bench/results)"; return; }
	# the workload, ours, stock and speed-up columns of W1-W6 (not the diagnostics, floors, targets)
	awk -v k="$k" '
		/^workload/ { cut = index($0, "target"); print "  " substr($0, 1, cut - 1); next }
		cut && /^W[1-6] / && !/diag|\(check\)|PageTables|\(its setup/ {
			line = substr($0, 1, cut - 1); sub(/ +$/, "", line); print "  " line }
		/^date / { date = $2 }
		END { printf "\n  (kernel %s, %s; tools/xen/gntalloc-bench in the repository)\n", k, date }' "$t"
}
stock_defects() {
	# README's table of what the stock driver fails (test names, then what it does instead),
	# and the two tests not run against it
	{
		awk -F'|' '
			/^\| Test \| What the stock driver does \|/ { on = 1; next }
			on && /^\|---/ { next }
			on && /^\|/ { t = $2; w = $3; gsub(/`| +$|^ +/, "", t); gsub(/`|^ +| +$/, "", w)
				print t "\t" w; next }
			on { exit }' README.md
		printf '%s\t%s\n' mmap.mapping_across_allocations_leaves_other_files_alone \
			"frees another file's grants: a use-after-free" \
			limit.grant_table_exhaustion_fails_cleanly \
			"once an ALLOC failed half way its count is wrong: every later ALLOC fails with ENOSPC"
	} | awk -F'\t' '
		# wrap(text, first, rest): words of text in lines of at most 72 columns
		function wrap(text, first, rest,   n, w, i, line) {
			n = split(text, w, " "); line = first
			for (i = 1; i <= n; i++) {
				if (line != first && line != rest && length(line " " w[i]) > 72) {
					print line; line = rest
				}
				line = line (line == first || line == rest ? "" : " ") w[i]
			}
			print line
		}
		{ wrap($1 ":", "- ", "  "); wrap($2, "    ", "    ") }'
}

n=0
for stanza in "$stanzas"/*.msg; do
	name=$(basename "$stanza" .msg)
	ops=$stanzas/$name.ops
	subject=$(sed -n 's/^Subject: //p' "$stanza" | head -n 1)
	[ -n "$subject" ] || die "stanza $name has no Subject: line"
	body=$(sed '0,/^Subject: /d' "$stanza" | sed '/./,$!d')
	case $name in
	*-cover)
		body=${body//@BASE@/$BASE_NAME}
		body=${body//@BENCHMARK@/$(bench_table)}
		body=${body//@STOCK_DEFECTS@/$(stock_defects)}
		cover=$(printf '%s\n\n%s\n' "$subject" "$body")
		continue
		;;
	esac
	n=$((n + 1))
	FILES=''
	# the arguments are words, and their patterns are git's or make's, not the shell's
	set -f
	while read -r op args; do
		# shellcheck disable=SC2086
		"op_${op//-/_}" $args
	done <"${ops}"
	set +f
	git -C "$WORK" add -u
	if git -C "$WORK" diff --cached --quiet; then
		die "patch $n ($subject) changes nothing"
	fi
	printf '%s\n\n%s\n\nSigned-off-by: %s\n' "$subject" "$body" "$SUBMITTER" |
		kgit commit -q -F -
	say "$n: $subject ($(git -C "$WORK" diff --shortstat HEAD~ HEAD | sed 's/^ //'))"
done

[ -n "${cover:-}" ] || die "no cover stanza in $SERIES"
git -C "$WORK" config branch.gntalloc.description "$cover"
rm -rf "$OUT"
mkdir -p "$OUT"
kgit format-patch -q --cover-letter --cover-from-description=subject --thread=shallow \
	${REROLL:+-v "$REROLL"} -o "$OUT" base..gntalloc >/dev/null
say "$(find "$OUT" -name '*.patch' | wc -l) files in $OUT (the cover letter and $n patches)"
# the series' commit, for the built-in debug kernel: rewritten only when it changed
head=$(git -C "$WORK" rev-parse gntalloc)
[ "$(cat "$WORK.commit" 2>/dev/null)" = "$head" ] || echo "$head" >"$WORK.commit"
