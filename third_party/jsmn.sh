#!/bin/sh
# Copy jsmn.h from Debian's libjsmn-dev, pinned by version and hash, into the
# build's include directory. musl-gcc does not search /usr/include, and
# pointing it there would mix glibc headers into the build.
set -eu

JSMN_VERSION="1.1.0-2"
JSMN_SHA256="1ed6154dedf009212a08a397e9c4ed50a0ce31d5a8301bb294e137ae3188c13b"

dest=${1:?usage: jsmn.sh DEST/jsmn.h}
have=$(dpkg-query -W -f='${Version}' libjsmn-dev 2>/dev/null || true)
if [ "$have" != "$JSMN_VERSION" ]; then
	echo "jsmn.sh: libjsmn-dev $JSMN_VERSION is needed, found '${have:-none}'" >&2
	exit 1
fi
echo "$JSMN_SHA256  /usr/include/jsmn.h" | sha256sum -c --quiet - || {
	echo "jsmn.sh: /usr/include/jsmn.h does not match the pinned hash" >&2
	exit 1
}
mkdir -p "$(dirname "$dest")"
cp /usr/include/jsmn.h "$dest"
