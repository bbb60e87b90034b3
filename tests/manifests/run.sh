#!/usr/bin/env bash
# make test-manifests: schema validation of config/*.yaml (kubernetes-models,
# pinned by package-lock.json), then the pytest checks and runs.
# With the argument `schema` (make lint), the schema validation alone.
#
# npm installs under build/ (ignored by git, removed by make clean): the
# package files and validate.mjs are copied there, so its imports resolve
# against that node_modules. `npm ci` runs again only when the lock changes.
set -euo pipefail
cd "$(dirname "$0")/../.."

here=tests/manifests
npmdir=build/manifests-npm
mkdir -p "$npmdir"
for f in package.json package-lock.json .npmrc validate.mjs; do
	cmp -s "$here/$f" "$npmdir/$f" || cp "$here/$f" "$npmdir/$f"
done
if ! cmp -s "$npmdir/package-lock.json" "$npmdir/installed.lock"; then
	(cd "$npmdir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
	cp "$npmdir/package-lock.json" "$npmdir/installed.lock"
fi

status=0
node "$npmdir/validate.mjs" config/*.yaml || status=1
[ "${1:-}" = schema ] && exit $status
/usr/bin/python3 -m pytest -q -p no:cacheprovider "$here" || status=1
exit $status
