#!/bin/sh
# check.sh - compile each case of a compile-fail file at each -O level and
# say, one line per compile, whether the compiler did what the case expects.
#
# Usage: check.sh SOURCE OUTDIR CC [CFLAGS...]
#
# The cases are the `#ifdef GOOD_...` and `#ifdef BAD_...` lines of SOURCE:
# a GOOD case must compile; a BAD case must fail, with the text after
# "refused:" on its #ifdef line in the compiler's messages. Prints
#   check-typed: -O0 BAD_WRITE32_OF_16BIT_FIELD: refused: <the message> ok
# and at the end "check-typed: N checks, M failed"; exits 1 if M > 0.
# A failing case's full compiler output is in OUTDIR/<case><level>.log.

src=$1 out=$2 cc=$3
shift 3
mkdir -p "$out"
n=0 failed=0
for level in -O0 -O2; do
	grep -E '^#ifdef (GOOD|BAD)_' "$src" | while read -r _ case rest; do
		echo "$case ${rest#*refused: }"
	done > "$out/cases"
	while read -r case expect; do
		expect=${expect%% \*/}
		log=$out/$case$level.log
		n=$((n + 1))
		if "$cc" "$@" "$level" -D"$case" -c "$src" -o "$out/$case$level.o" > "$log" 2>&1; then
			compiled=yes
		else
			compiled=no
		fi
		# The static assertion's message, or else the first error.
		said=$(sed -n 's/.*error: static assertion failed: "\(.*\)"$/\1/p' "$log" | head -n 1)
		[ -n "$said" ] || said=$(sed -n 's/.*error: //p' "$log" | head -n 1)
		case $case in
		GOOD_*)
			if [ $compiled = yes ]; then
				echo "check-typed: $level $case: compiles ok"
			else
				echo "check-typed: $level $case: FAILED: does not compile (see $log)"
				failed=$((failed + 1))
			fi ;;
		*)
			if [ $compiled = no ] && grep -q "$expect" "$log"; then
				echo "check-typed: $level $case: refused: $said ok"
			elif [ $compiled = yes ]; then
				echo "check-typed: $level $case: FAILED: compiled; it must not"
				failed=$((failed + 1))
			else
				echo "check-typed: $level $case: FAILED: refused, but without \"$expect\" (see $log)"
				failed=$((failed + 1))
			fi ;;
		esac
	done < "$out/cases"
done
echo "check-typed: $n checks, $failed failed"
[ $failed -eq 0 ]
