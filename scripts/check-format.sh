#!/bin/bash
# Fails, naming each file and showing the first lines of the difference, if
# clang-format (with the committed .clang-format) would change it.
#
#   scripts/check-format.sh FILE...
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
command -v clang-format >/dev/null || { echo "clang-format not found (apt-get install clang-format)"; exit 1; }
bad=0
for f in "$@"; do
	if ! clang-format "$f" | diff -u "$f" - >/tmp/check-format.$$ 2>&1; then
		echo "$f: not as clang-format leaves it (make format); first lines:"
		head -n 20 /tmp/check-format.$$ | sed 's/^/    /'
		bad=1
	fi
done
rm -f /tmp/check-format.$$
[ "$bad" = 0 ] && echo "format: $# files as clang-format leaves them ($(clang-format --version | sed 's/.*version //'))"
exit "$bad"
