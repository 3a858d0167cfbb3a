#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check-units.sh SYSTEM_UNIT_DIR [USER_UNIT_DIR]
#
# Checks configured pmx units (the build's units/system and units/user, or
# installed unit folders):
#   1. no @PLACEHOLDER@ left; the user variant has no User=/Group=;
#      every BusName= is owned in org.pmx.conf and matches ExecReload=
#   2. `systemd-analyze security --offline=yes --threshold=20` per system
#      service: overall exposure must be <= 2.0 (the threshold is exposure*10;
#      the command fails above it). User-variant scores are printed for info.
#   3. `systemd-analyze verify` of both variants (--user for the user one)
#      must print nothing about pmx units. verify insists that ExecStart=/
#      ExecReload= binaries exist (and --root= is refused with --user), so
#      the script re-runs itself in a private mount namespace where missing
#      binaries are dummies on an overlay. Nothing on the host changes: a
#      private tmpfs on /run/systemd also takes the systemd-units-load marker
#      that verify and security leave behind.
#   4. pmx.sysusers, pmx.tmpfiles and org.pmx.conf beside this script parse
#      (sysusers/tmpfiles applied to a throwaway --root).
# Exit: 0 ok, 1 failure, 77 verify could not run (no mount namespace) and
# nothing else failed. Needs systemd-analyze (252+), unshare, and xmllint or
# python3.

set -u
export LC_ALL=C SYSTEMD_PAGER='' SYSTEMD_COLORS=0

THRESHOLD=20    # exposure 2.0
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "check-units: $*" >&2; exit 1; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then die "usage: $0 SYSTEM_UNIT_DIR [USER_UNIT_DIR]"; fi
sysdir=$(cd "$1" 2>/dev/null && pwd) || die "no such folder: $1"
userdir=
if [ $# -eq 2 ]; then userdir=$(cd "$2" 2>/dev/null && pwd) || die "no such folder: $2"; fi
command -v systemd-analyze >/dev/null || die "systemd-analyze not found"

# Re-run inside a private mount namespace (see 3. above).
if [ -z "${PMX_CHECK_UNITS_NS-}" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        ns=(unshare --mount --propagation private)
    else
        ns=(unshare --map-root-user --mount --propagation private)
        export PMX_CHECK_UNITS_MAPPED=1   # only our own uid exists in there
    fi
    if "${ns[@]}" true 2>/dev/null; then
        PMX_CHECK_UNITS_NS=1 exec "${ns[@]}" "$0" "$sysdir" ${userdir:+"$userdir"}
    fi
    echo "note: cannot create a mount namespace (${ns[*]}): verify will be skipped"
    PMX_CHECK_UNITS_NS=none
fi
if [ "$PMX_CHECK_UNITS_NS" = 1 ]; then
    mount --make-rprivate / || die "mount --make-rprivate / failed"
    if [ -d /run/systemd ]; then
        mount -t tmpfs -o mode=0755 tmpfs /run/systemd || die "cannot mount a tmpfs on /run/systemd"
        tmp=/run/systemd/pmx-check
        mkdir -p "$tmp"
    else
        tmp=$(mktemp -d /tmp/pmx-check-units.XXXXXX) || die "mktemp failed"
        trap 'umount -l "$tmp"; rm -rf "$tmp"' EXIT
        mount -t tmpfs -o mode=0755 tmpfs "$tmp" || die "cannot mount a tmpfs on $tmp"
    fi
else
    tmp=$(mktemp -d /tmp/pmx-check-units.XXXXXX) || die "mktemp failed"
    trap 'rm -rf "$tmp"' EXIT
fi

failed=0
skipped=0
fail() { echo "FAIL: $*"; failed=1; }

units_in() { ls "$1"/pmx*.service "$1"/pmx*.target 2>/dev/null; }
services_in() { ls "$1"/pmx*.service 2>/dev/null; }

# 1. Static checks -------------------------------------------------------------
echo "== static checks"
for dir in $sysdir $userdir; do
    [ -n "$(services_in "$dir")" ] || fail "no pmx*.service in $dir"
    for f in $(units_in "$dir"); do
        if grep -n -E '@[A-Za-z_]+@' "$f"; then fail "$f: unconfigured placeholder"; fi
        bus=$(sed -n 's/^BusName=//p' "$f")
        [ -z "$bus" ] && continue
        grep -q -E "^ExecReload=.* call $bus /org/pmx/Daemon1 org\.pmx\.Daemon1 Reload\$" "$f" \
            || fail "$f: ExecReload= does not call Reload on $bus"
        if [ -f "$here/org.pmx.conf" ]; then
            grep -q "<allow own=\"$bus\"/>" "$here/org.pmx.conf" \
                || fail "$f: org.pmx.conf lets nobody own $bus"
        fi
    done
done
for f in $(services_in "$sysdir"); do
    grep -q '^User=pmx$' "$f" || fail "$f: system service does not run as User=pmx"
done
if [ -n "$userdir" ]; then
    for f in $(units_in "$userdir"); do
        grep -n -E '^(User|Group|SupplementaryGroups|DynamicUser)=' "$f" \
            && fail "$f: user units cannot set User=/Group="
        grep -q -- '--bus=system\|busctl --system' "$f" && fail "$f: user variant talks to the system bus"
    done
fi

# 2. Exposure ------------------------------------------------------------------
echo "== systemd-analyze security --offline=yes --threshold=$THRESHOLD (system variant)"
for f in $(services_in "$sysdir"); do
    out=$(systemd-analyze security --offline=yes --threshold=$THRESHOLD --no-pager "$f" 2>&1)
    rc=$?
    score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    if [ $rc -ne 0 ] || [ -z "$score" ]; then
        # In the C locale failed items start with "- "; show them with their weight.
        printf '%s\n' "$out" | grep -E '^- |rror|arning' | sed 's/^/    /'
        fail "$(basename "$f"): exposure ${score:-?} is above 2.0 (or the check failed, rc=$rc)"
    else
        printf '  %-24s exposure %s (limit 2.0)\n' "$(basename "$f")" "$score"
    fi
done
if [ -n "$userdir" ]; then
    echo "== exposure of the user variant (info only: no User=, rated as root)"
    for f in $(services_in "$userdir"); do
        score=$(systemd-analyze security --offline=yes --no-pager "$f" 2>&1 \
            | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
        printf '  %-24s exposure %s\n' "$(basename "$f")" "${score:-?}"
    done
fi

# 3. verify ----------------------------------------------------------------------
# Dummies for every missing absolute Exec*= binary, on an overlay of the
# deepest folder that exists (only visible in this namespace).
make_dummies() {
    local exe anc o covered n=0 overlays=()
    # shellcheck disable=SC2046,SC2013
    for exe in $(sed -n -E 's/^Exec(Start|StartPre|StartPost|Reload|Stop|StopPost|Condition)=[-@:+!|]*([^ ]+).*/\2/p' \
                 $(units_in "$sysdir") ${userdir:+$(units_in "$userdir")} | sort -u); do
        case $exe in /*) ;; *) continue ;; esac
        [ -x "$exe" ] && continue
        anc=$(dirname "$exe")
        while [ ! -d "$anc" ]; do anc=$(dirname "$anc"); done
        covered=no
        for o in "${overlays[@]}"; do
            case $anc/ in "$o"/*) covered=yes ;; esac
        done
        if [ $covered = no ]; then
            [ "$anc" = / ] && { echo "cannot place a dummy for $exe (only / exists)"; return 1; }
            n=$((n + 1))
            mkdir -p "$tmp/up$n" "$tmp/work$n" || return 1
            mount -t overlay overlay -o "lowerdir=$anc,upperdir=$tmp/up$n,workdir=$tmp/work$n" "$anc" || return 1
            overlays+=("$anc")
        fi
        mkdir -p "$(dirname "$exe")" && printf '#!/bin/sh\nexit 0\n' >"$exe" && chmod 0755 "$exe" || return 1
        echo "  dummy $exe"
    done
}
if [ "$PMX_CHECK_UNITS_NS" != 1 ]; then
    skipped=1
else
    echo "== dummy binaries for verify (private mount namespace)"
    make_dummies || fail "could not place dummy binaries"
    mkdir -m 0700 "$tmp/xdg"
    for scope in system user; do
        if [ $scope = system ]; then dir=$sysdir; flag=; else dir=$userdir; flag=--user; fi
        [ -n "$dir" ] || continue
        echo "== systemd-analyze verify${flag:+ $flag} --man=no ($scope variant)"
        # shellcheck disable=SC2046
        out=$(XDG_RUNTIME_DIR=$tmp/xdg systemd-analyze verify $flag --man=no $(units_in "$dir") 2>&1)
        rc=$?
        # Only pmx units count; host units pulled in as dependencies are not ours.
        problems=$(printf '%s\n' "$out" | grep -E "pmx|$dir")
        others=$(printf '%s\n' "$out" | grep -v -E "pmx|$dir" | grep -v '^$')
        [ -n "$others" ] && printf 'note (not about pmx units):\n%s\n' "$others"
        if [ $rc -ne 0 ] || [ -n "$problems" ]; then
            printf '%s\n' "$problems"
            fail "systemd-analyze verify${flag:+ $flag} reported problems (rc=$rc)"
        else
            echo "  clean: $(units_in "$dir" | xargs -n1 basename | tr '\n' ' ')"
        fi
    done
fi

# 4. sysusers.d, tmpfiles.d, D-Bus policy (sources beside this script) ----------
if [ -f "$here/pmx.sysusers" ] && [ -f "$here/pmx.tmpfiles" ]; then
    echo "== sysusers.d / tmpfiles.d (applied to a throwaway --root)"
    root=$tmp/root
    mkdir -p "$root/etc"
    if out=$(systemd-sysusers --root="$root" - <"$here/pmx.sysusers" 2>&1) \
        && grep -q '^pmx:' "$root/etc/passwd" && grep -q '^pmx-admin:' "$root/etc/group"; then
        echo "  sysusers ok: $(cut -d: -f1 "$root/etc/group" | tr '\n' ' ')"
    else
        printf '%s\n' "$out"; fail "pmx.sysusers"
    fi
    out=$(systemd-tmpfiles --root="$root" --create - <"$here/pmx.tmpfiles" 2>&1)
    rc=$?
    if [ "${PMX_CHECK_UNITS_MAPPED-}" = 1 ]; then
        # Not really root: chown to pmx cannot work in the user namespace.
        out=$(printf '%s\n' "$out" | grep -v '^fchownat() .* Invalid argument$')
        [ $rc -eq 73 ] && rc=0   # EX_CANTCREAT, from those chowns
    fi
    if [ $rc -eq 0 ] \
        && [ -d "$root/var/lib/pmx" ] && [ -d "$root/var/spool/pmx" ] && [ -z "$out" ]; then
        echo "  tmpfiles ok: $(cd "$root" && stat -c '/%n %a %u:%g' var/lib/pmx var/spool/pmx | tr '\n' ' ')"
    else
        printf '%s\n' "$out"; fail "pmx.tmpfiles"
    fi
fi
if [ -f "$here/org.pmx.conf" ]; then
    echo "== org.pmx.conf"
    if command -v xmllint >/dev/null; then
        if xmllint --noout "$here/org.pmx.conf"; then echo "  well-formed (xmllint)"; else fail "org.pmx.conf is not well-formed XML"; fi
    else
        if python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$here/org.pmx.conf"; then
            echo "  well-formed (python3)"
        else
            fail "org.pmx.conf is not well-formed XML"
        fi
    fi
fi

if [ $failed -ne 0 ]; then echo "check-units: FAILED"; exit 1; fi
if [ $skipped -ne 0 ]; then echo "check-units: passed, verify skipped"; exit 77; fi
echo "check-units: all checks passed"
