#!/usr/bin/env bash
# `cpack -G DEB` makes a package whose control files dpkg needs: conffiles for
# every file under /etc/ewsd, maintainer scripts that create the ewsd user,
# dependencies; and whose files are where operations.md says.
# Usage: deb_test.sh BUILD_DIR
set -euo pipefail
build=$1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

(cd "$build" && cpack -G DEB -B "$tmp/out" --config CPackConfig.cmake) >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log"; exit 1; }
deb=$(ls "$tmp"/out/ewsd_*.deb)

dpkg-deb -I "$deb" >"$tmp/info"
grep -q '^ Package: ewsd$' "$tmp/info" || fail "Package is not ewsd"
depends=$(sed -n 's/^ Depends: //p' "$tmp/info")
for dep in adduser libsystemd0 libsqlite3-0 libyaml-cpp0.7 libcurl4 libssl3 \
  libboost-program-options1.74.0; do
  [[ ", $depends," == *", $dep"[\ ,]* ]] || fail "Depends lacks $dep: $depends"
done

dpkg-deb -c "$deb" | awk '{print $1, $NF}' >"$tmp/contents"
for f in ./usr/bin/ewsd ./usr/lib/systemd/system/ewsd.service ./etc/ewsd/ewsd.yaml \
  ./etc/ewsd/rules.d/10-abc.yaml ./etc/ewsd/templates/referral.txt.mustache \
  ./usr/share/doc/ewsd/operations.md; do
  grep -q " $f\$" "$tmp/contents" || fail "the package lacks $f"
done
grep -q '^-rwxr-xr-x ./usr/bin/ewsd$' "$tmp/contents" || fail "usr/bin/ewsd is not 0755"

mkdir "$tmp/control" "$tmp/files"
dpkg-deb --ctrl-tarfile "$deb" | tar -x -C "$tmp/control"
dpkg-deb -x "$deb" "$tmp/files"
grep -qx 'ExecStart=/usr/bin/ewsd run --config /etc/ewsd/ewsd.yaml' \
  "$tmp/files/usr/lib/systemd/system/ewsd.service" || fail "the packaged unit's ExecStart"

# conffiles: exactly the files under /etc.
(cd "$tmp/files" && find etc -type f | sed 's#^#/#' | sort) >"$tmp/etc-files"
sort "$tmp/control/conffiles" >"$tmp/conffiles"
diff -u "$tmp/etc-files" "$tmp/conffiles" >"$tmp/conffiles.diff" ||
  fail "conffiles differ from the files under /etc: $(cat "$tmp/conffiles.diff")"
grep -qx /etc/ewsd/ewsd.yaml "$tmp/conffiles" || fail "conffiles lacks /etc/ewsd/ewsd.yaml"
grep -qx /etc/ewsd/rules.d/10-abc.yaml "$tmp/conffiles" || fail "conffiles lacks the rules"

for script in postinst prerm postrm; do
  [ -x "$tmp/control/$script" ] || fail "$script missing or not executable"
  sh -n "$tmp/control/$script" || fail "$script is not valid sh"
done
grep -q 'daemon-reload' "$tmp/control/postinst" || fail "postinst does not reload systemd"

# postinst with stand-ins for the commands it calls: it adds the user once,
# and an upgrade (or a second configure) leaves an existing user alone.
mkdir "$tmp/bin"
for cmd in adduser systemctl deb-systemd-helper; do
  printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$cmd" "$tmp/calls" >"$tmp/bin/$cmd"
done
printf '#!/bin/sh\n[ "$1 $2" = "passwd ewsd" ] && [ -e "%s" ]\n' "$tmp/user-exists" >"$tmp/bin/getent"
chmod +x "$tmp/bin"/*
PATH=$tmp/bin:$PATH sh "$tmp/control/postinst" configure "" || fail "postinst configure failed"
grep -qx 'adduser --system --group --quiet --home /var/lib/ewsd --no-create-home --gecos ewsd early-warning daemon ewsd' \
  "$tmp/calls" || fail "postinst did not add the system user: $(cat "$tmp/calls")"
touch "$tmp/user-exists"
: >"$tmp/calls"
PATH=$tmp/bin:$PATH sh "$tmp/control/postinst" configure 0.1.0 || fail "postinst upgrade failed"
! grep -q adduser "$tmp/calls" || fail "postinst added an existing user again"

if [ "$failures" -ne 0 ]; then
  echo "--- cpack said:"
  cat "$tmp/cpack.log"
  exit 1
fi
echo "cpack -G DEB: ok ($(basename "$deb"))"
