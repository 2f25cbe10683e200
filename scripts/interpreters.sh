#!/usr/bin/env bash
# Real CPython 3.13, 3.14 and a free-threaded 3.13t for the ground-truth tests, without touching
# the system (see ../shared/reference/real-interpreters.md for how and why):
#
# - Debian trixie's python3.13 and sid's python3.14, fetched with a private apt configuration
#   (the system's sources, lists and dpkg status stay as they are) and unpacked with dpkg-deb
#   into one private root per version together with the newer glibc, OpenSSL, ... they need;
#   patchelf points each interpreter at its root's dynamic loader and libraries (no
#   LD_LIBRARY_PATH, so child processes keep using the system's libraries).
# - a free-threaded 3.13t built from trixie's python3.13 source tarball (Debian ships no
#   free-threaded interpreter): ./configure --disable-gil, make altinstall.
#
# Everything lives in a cache outside the clone, so a second set-up is instant:
#   ${COINSTALL_TEST_CACHE:-$HOME/.cache/coinstall-test}/interpreters/
#     bin/python3.13 bin/python3.14 bin/python3.13t   two-line #!/bin/sh wrappers (stable paths)
#     root-3.13/ root-3.14/ root-3.13t/                the private roots
#     apt/                                             the private apt configuration, lists, debs
# Each step is skipped when its result is already there; a step's result is published last
# (a marker file, then the wrapper), so an interrupted run is redone, never half-used.
# The versions fetched are pinned below: when the archive no longer has one, this fails with
# the reason instead of silently testing another interpreter.
set -euo pipefail

CACHE="${COINSTALL_TEST_CACHE:-$HOME/.cache/coinstall-test}/interpreters"
MIRROR="${COINSTALL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# Pinned 2026-12-07 (what trixie and sid had that day).
PY313_VERSION="3.13.5-2+deb13u5"   # trixie
PY314_VERSION="3.14.10-1"          # sid
PATCHELF_SUITE=bookworm            # bookworm's patchelf runs here unpacked
# The libraries the interpreters and their extension modules link against (Depends of
# python3.X-minimal, libpython3.X-minimal and libpython3.X-stdlib), plus pip's and setuptools'
# wheels for `python3.X -m venv`.
LIBS=(libc6 libgcc-s1 libssl3t64 libexpat1 zlib1g libffi8 libsqlite3-0 libbz2-1.0 liblzma5
      libncursesw6 libtinfo6 libreadline8t64 libuuid1 libdb5.3t64 libzstd1 libcrypt1 libmpdec4
      python3-pip-whl python3-setuptools-whl)
TRIPLET=x86_64-linux-gnu

say() { echo "interpreters: $*" >&2; }
die() { echo "interpreters: error: $*" >&2; exit 1; }

mkdir -p "$CACHE/bin"
# One set-up at a time per cache (engineers share a machine's cache).
exec 9>"$CACHE/.lock"
flock 9

W="$CACHE/apt"
APT_OPTS=(-o "Dir::Etc::SourceList=$W/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$W/lists" -o "Dir::Cache=$W/cache" -o Dir::State::status=/dev/null
          -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
          -o APT::Architecture=amd64 -o Acquire::Languages=none -o APT::Sandbox::User=root
          -q)
apt_updated=0
apt_private_update() {
  [ "$apt_updated" = 1 ] && return 0
  mkdir -p "$W/lists/partial" "$W/cache/archives/partial"
  cat >"$W/sources.list" <<EOF
deb [signed-by=$KEYRING] $MIRROR bookworm main
deb [signed-by=$KEYRING] $MIRROR trixie main
deb-src [signed-by=$KEYRING] $MIRROR trixie main
deb [signed-by=$KEYRING] $MIRROR sid main
EOF
  say "private apt update (trixie, sid, bookworm) into $W"
  apt-get "${APT_OPTS[@]}" update >/dev/null || die "apt-get update with the private configuration failed"
  apt_updated=1
}
have_lists() { ls "$W"/lists/*_bookworm_main_binary-amd64_Packages* "$W"/lists/*_sid_main_binary-amd64_Packages* >/dev/null 2>&1; }
# apt_version PKG VERSION: true when the private lists know PKG at VERSION.
apt_has() {
  apt-cache "${APT_OPTS[@]}" madison "$1" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | grep -qxF "$2"
}
# require_pinned PKG VERSION SUITE: the pinned version must be in the archive (refresh once).
require_pinned() {
  have_lists || apt_private_update
  if ! apt_has "$1" "$2"; then
    apt_private_update
    apt_has "$1" "$2" || die "$1 $2 is no longer in Debian $3 at $MIRROR (found: $(apt-cache "${APT_OPTS[@]}" madison "$1" 2>/dev/null | awk -F'|' '{print $2 $3}' | tr -s ' ' | paste -sd, -)); update the pinned version in scripts/interpreters.sh"
  fi
}
# download DIR SPEC...: apt-get download into DIR (SPEC is pkg=version or pkg/suite).
download() {
  local dir=$1; shift
  mkdir -p "$dir"
  (cd "$dir" && apt-get "${APT_OPTS[@]}" download "$@" >/dev/null) || die "apt-get download $* failed"
}

# --- patchelf, unpacked (not installed) -------------------------------------------------
PATCHELF="$CACHE/tools/usr/bin/patchelf"
if [ ! -x "$PATCHELF" ]; then
  have_lists || apt_private_update
  rm -rf "$W/debs/tools"
  download "$W/debs/tools" "patchelf/$PATCHELF_SUITE"
  for d in "$W"/debs/tools/*.deb; do dpkg-deb -x "$d" "$CACHE/tools"; done
  "$PATCHELF" --version >/dev/null || die "unpacked patchelf does not run"
fi

# --- free-threaded 3.13t from trixie's python3.13 source (started first: it takes longest) -
build_313t() {
  local root="$CACHE/root-3.13t" src="$CACHE/build-3.13t"
  local orig
  orig=$(ls "$W"/src/python3.13_*.orig.tar.* 2>/dev/null | head -n1)
  rm -rf "$root" "$src"
  mkdir -p "$src"
  tar -xf "$orig" -C "$src" --strip-components=1
  say "building free-threaded 3.13t (nice; log: $CACHE/build-3.13t.log)"
  (
    cd "$src"
    # Bundled libmpdec: bookworm has no libmpdec-dev.
    nice ./configure --prefix="$root" --disable-gil --without-system-libmpdec --with-ensurepip=no
    nice make -j"$(nproc)"
    nice make altinstall
  ) >"$CACHE/build-3.13t.log" 2>&1 || die "3.13t build failed; see $CACHE/build-3.13t.log"
  "$root/bin/python3.13t" -c 'import sys, ssl, sqlite3, ctypes, zlib, bz2, lzma; sys.exit(sys._is_gil_enabled())' \
    || die "built 3.13t is not free-threaded or lacks a standard module"
  rm -rf "$src"
  touch "$root/.coinstall-complete"
}
wrapper_ok() { [ -x "$CACHE/bin/$1" ] && "$CACHE/bin/$1" -c 'pass' 2>/dev/null; }
write_wrapper() {  # write_wrapper NAME TARGET
  printf '#!/bin/sh\nexec %s "$@"\n' "$2" >"$CACHE/bin/.$1.tmp"
  chmod 755 "$CACHE/bin/.$1.tmp"
  mv -f "$CACHE/bin/.$1.tmp" "$CACHE/bin/$1"
}

build_pid=""
if ! { [ -f "$CACHE/root-3.13t/.coinstall-complete" ] && wrapper_ok python3.13t; }; then
  require_pinned python3.13 "$PY313_VERSION" trixie
  if ! ls "$W"/src/python3.13_"${PY313_VERSION%%-*}".orig.tar.* >/dev/null 2>&1; then
    mkdir -p "$W/src"
    (cd "$W/src" && apt-get "${APT_OPTS[@]}" source --download-only "python3.13=$PY313_VERSION" >/dev/null) \
      || die "apt-get source python3.13=$PY313_VERSION failed (trixie's deb-src)"
  fi
  build_313t &
  build_pid=$!
fi

# --- Debian's 3.13 (trixie) and 3.14 (sid) in private roots ---------------------------------
debian_root() {  # debian_root X.Y VERSION SUITE
  local v=$1 ver=$2 suite=$3 root="$CACHE/root-$1"
  if [ -f "$root/.coinstall-complete" ] && wrapper_ok "python$v"; then return 0; fi
  require_pinned "python$v" "$ver" "$suite"
  local debs="$W/debs/$v"
  rm -rf "$debs" "$root"
  say "fetching Debian $suite's python$v $ver and its libraries"
  download "$debs" "python$v=$ver" "python$v-minimal=$ver" "libpython$v-minimal=$ver" \
    "libpython$v-stdlib=$ver" "python$v-venv=$ver" "${LIBS[@]/%//$suite}"
  for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$root"; done
  # What the root holds, for the record.
  for d in "$debs"/*.deb; do dpkg-deb --show --showformat='${Package} ${Version}\n' "$d"; done \
    >"$root/.coinstall-packages"
  local lib="$root/usr/lib/$TRIPLET"
  "$PATCHELF" --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" "$root/usr/bin/python$v"
  # Debian's sysconfig names /usr/share/python-wheels/ for ensurepip's wheels: point it at the root's copy.
  local sc
  for sc in "$root"/usr/lib/python"$v"/_sysconfigdata_*.py; do
    sed -i "s|'/usr/share/python-wheels/'|'$root/usr/share/python-wheels/'|g" "$sc"
  done
  grep -q "WHEEL_PKG_DIR': '$root/usr/share/python-wheels/'" "$root"/usr/lib/python"$v"/_sysconfigdata_*.py \
    || die "python$v: WHEEL_PKG_DIR not found in its _sysconfigdata"
  "$root/usr/bin/python$v" -c 'import ssl, sqlite3, ctypes, zlib, bz2, lzma, ensurepip' \
    || die "python$v in $root does not start or lacks a standard module"
  touch "$root/.coinstall-complete"
  write_wrapper "python$v" "$root/usr/bin/python$v"
}
debian_root 3.13 "$PY313_VERSION" trixie
debian_root 3.14 "$PY314_VERSION" sid

if [ -n "$build_pid" ]; then
  wait "$build_pid" || die "3.13t build failed"
  write_wrapper python3.13t "$CACHE/root-3.13t/bin/python3.13t"
fi
for v in 3.13 3.14 3.13t; do
  wrapper_ok "python$v" || die "$CACHE/bin/python$v does not run"
done
say "ready: $CACHE/bin/python3.13 python3.14 python3.13t"
