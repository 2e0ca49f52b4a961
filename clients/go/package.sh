#!/usr/bin/env bash
# Builds the Go client module github.com/accord-suite/accord-go at version
# v$(cat clients/VERSION) as a module proxy folder (the layout `GOPROXY=file://OUT`
# serves): OUT/github.com/accord-suite/accord-go/@v/{list,vX.Y.Z.info,
# vX.Y.Z.mod,vX.Y.Z.zip}. The zip holds clients/go/go.mod and the code
# clients/generate.sh makes from clients/buf.gen.yaml. With GEN_DIR, reuses
# code generated there.
#
# Usage: clients/go/package.sh OUT_DIR [GEN_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
gen="${2:-$out/gen}"
[ -n "${2:-}" ] || "$root/clients/generate.sh" "$gen" >/dev/null
module="$(sed -n 's/^module //p' "$root/clients/go/go.mod")"
version="v$(cat "$root/clients/VERSION")"

# A module zip holds every file under `module@version/`.
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
tree="$staging/$module@$version"
mkdir -p "$tree"
cp "$root/clients/go/go.mod" "$tree/go.mod"
cp -r "$gen/go/accord" "$tree/accord"
proxy="$out/$module/@v"
mkdir -p "$proxy"
rm -f "$proxy/$version.zip"
(cd "$staging" && find . -type f | sort | sed 's#^\./##' |
  zip -q -X "$proxy/$version.zip" -@)
cp "$root/clients/go/go.mod" "$proxy/$version.mod"
printf '{"Version":"%s","Time":"%s"}\n' "$version" \
  "$(git -C "$root" log -1 --format=%cI 2>/dev/null || date -u +%FT%TZ)" >"$proxy/$version.info"
echo "$version" >"$proxy/list"
echo "built $module $version in $out"
