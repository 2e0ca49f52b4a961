#!/usr/bin/env bash
# buf breaking: the working tree's protos against those on the main branch
# (or $ACCORD_BREAKING_AGAINST, any git ref). The google/* dependencies are
# not in git, so the reference protos are exported to a temporary folder
# that borrows proto/node_modules.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
ref="${ACCORD_BREAKING_AGAINST:-main}"
buf="$repo/proto/node_modules/.bin/buf"
if ! git -C "$repo" rev-parse --verify --quiet "$ref^{commit}" >/dev/null; then
  echo "buf breaking: no $ref branch to compare with; nothing to check"
  exit 0
fi
if [ -z "$(git -C "$repo" ls-tree -r --name-only "$ref" -- proto/accord)" ]; then
  echo "buf breaking: $ref has no protos yet; nothing to check"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git -C "$repo" archive "$ref" proto | tar -x -C "$work"
ln -s "$repo/proto/node_modules" "$work/proto/node_modules"
cd "$repo/proto"
"$buf" build "$work/proto" -o "$work/against.binpb"
"$buf" breaking --path accord --against "$work/against.binpb"
echo "buf breaking: no breaking change against $ref"
