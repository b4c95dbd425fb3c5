#!/usr/bin/env bash
# `cmake --install` into a DESTDIR: every file where operations.md says, the
# unit naming the installed binary, and an admin's configuration kept.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
install_into_root() {
  DESTDIR=$root cmake --install "$build" --prefix /usr/local >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; exit 1; }
}

install_into_root

[ -x "$root/usr/local/bin/ewsd" ] || fail "no executable usr/local/bin/ewsd"
"$root/usr/local/bin/ewsd" --version | grep -q '^ewsd ' || fail "the installed ewsd does not run"
unit=$root/usr/local/lib/systemd/system/ewsd.service
[ -f "$unit" ] || fail "no unit usr/local/lib/systemd/system/ewsd.service"
grep -qx 'ExecStart=/usr/local/bin/ewsd run --config /etc/ewsd/ewsd.yaml' "$unit" ||
  fail "the unit's ExecStart does not name /usr/local/bin/ewsd: $(grep ExecStart= "$unit")"
grep -qx 'Documentation=file:///usr/local/share/doc/ewsd/operations.md' "$unit" ||
  fail "the unit's Documentation= does not name /usr/local/share/doc"
# The configuration goes to /etc/ewsd whatever the prefix: the binary looks there.
cmp -s "$source/config/ewsd.yaml" "$root/etc/ewsd/ewsd.yaml" || fail "etc/ewsd/ewsd.yaml"
for f in $(cd "$source/config" && find rules.d templates -type f); do
  cmp -s "$source/config/$f" "$root/etc/ewsd/$f" || fail "etc/ewsd/$f missing or different"
done
[ -f "$root/etc/ewsd/rules.d/10-abc.yaml" ] || fail "no default rules"
[ -f "$root/etc/ewsd/templates/referral.txt.mustache" ] || fail "no templates"
for doc in README.md operations.md feeds.md rules.md; do
  [ -f "$root/usr/local/share/doc/ewsd/$doc" ] || fail "no usr/local/share/doc/ewsd/$doc"
done
[ "$(stat -c %a "$root/etc/ewsd/ewsd.yaml")" = 644 ] || fail "ewsd.yaml is not 0644"
[ "$(stat -c %a "$root/etc/ewsd/credentials")" = 700 ] || fail "etc/ewsd/credentials is not 0700"

# An admin edits the configuration and a rule, and deletes a template; a
# reinstall (an upgrade from source) keeps both edits and restores the template.
echo "# edited by the admin" >>"$root/etc/ewsd/ewsd.yaml"
echo "# edited by the admin" >>"$root/etc/ewsd/rules.d/10-abc.yaml"
cp "$root/etc/ewsd/ewsd.yaml" "$tmp/edited.yaml"
cp "$root/etc/ewsd/rules.d/10-abc.yaml" "$tmp/edited-rules.yaml"
rm "$root/etc/ewsd/templates/digest.txt.mustache"
install_into_root
cmp -s "$tmp/edited.yaml" "$root/etc/ewsd/ewsd.yaml" || fail "the edited ewsd.yaml was overwritten"
cmp -s "$tmp/edited-rules.yaml" "$root/etc/ewsd/rules.d/10-abc.yaml" ||
  fail "the edited rules.d/10-abc.yaml was overwritten"
grep -q "Keeping: $root/etc/ewsd/ewsd.yaml" "$tmp/install.log" ||
  fail "the reinstall did not say it kept ewsd.yaml"
cmp -s "$source/config/templates/digest.txt.mustache" "$root/etc/ewsd/templates/digest.txt.mustache" ||
  fail "the deleted template was not installed again"

if [ "$failures" -ne 0 ]; then
  echo "--- the last install said:"
  cat "$tmp/install.log"
  exit 1
fi
echo "cmake --install: ok"
