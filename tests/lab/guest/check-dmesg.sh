#!/usr/bin/env bash
# Runs last in every lab guest: the kernel logged no warning, oops or BUG
# while the checks before it ran (bypass_uio's own lines included).
#   check-dmesg.sh TOPOLOGY IOMMU
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bad=$(dmesg | grep -E "WARNING:|BUG:|Oops|Call Trace|general protection fault|bypass_uio.*(leak|error)" | head -n 8)
[ -z "$bad" ] && ok "$1/$2: the kernel logged no warning, oops or BUG" || fail "$1/$2: the kernel log is clean" "$bad"
summary
