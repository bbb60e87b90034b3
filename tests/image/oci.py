#!/usr/bin/python3
"""The multi-architecture image as an OCI image layout, without a builder.

    oci.py build OUT.tar --version V --source URL --revision COMMIT \\
        amd64=build/tokenbridge-sidecar arm64=build/arm64/tokenbridge-sidecar
    oci.py check OUT.tar amd64=BIN arm64=BIN

The image is the static binary alone, so each architecture's image is one
layer (a tar holding /tokenbridge-sidecar, mode 0755, owner 0) and a
config with the Dockerfile's settings: USER 65532:65532, ENTRYPOINT the
binary, CMD run, and the OCI labels (title, description, version,
licenses, source, revision, created). index.json names one image index,
tagged VERSION, that lists the linux/amd64 and linux/arm64 manifests.
Every byte is a function of the binaries, the arguments and
SOURCE_DATE_EPOCH (tar and gzip times), so reproducible binaries give a
reproducible image. A docker-archive manifest.json for the machine's own
architecture lets a docker without OCI support `docker load` it.

`check` reads the tar back: every blob's digest and size, the index's
platforms, the labels, and each layer's binary against the one given.
Ends with `oci: N passed, M failed`.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import sys
import tarfile
import time

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
BINARY = "tokenbridge-sidecar"
DESCRIPTION = ("Kubernetes sidecar: exchanges the pod's ServiceAccount token "
               "for an access token (RFC 8693) and keeps it fresh in a file")
# Debian architecture -> OCI platform.
PLATFORMS = {
    "amd64": {"architecture": "amd64", "os": "linux"},
    "arm64": {"architecture": "arm64", "os": "linux", "variant": "v8"},
}


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_bytes(members, mtime):
    """A tar of (name, data, mode) in the given order, owner 0, at mtime."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data, mode in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gzipped(data):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0,
                       compresslevel=9) as g:
        g.write(data)
    return buf.getvalue()


def host_arch():
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(),
                                                       platform.machine())


def build(args, binaries):
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    labels = {
        "org.opencontainers.image.title": BINARY,
        "org.opencontainers.image.description": DESCRIPTION,
        "org.opencontainers.image.version": args.version,
        "org.opencontainers.image.licenses": "MIT",
        "org.opencontainers.image.source": args.source,
        "org.opencontainers.image.revision": args.revision,
        "org.opencontainers.image.created": created,
    }
    blobs = {}

    def blob(data, media_type, **extra):
        d = digest(data)
        blobs[d] = data
        return dict({"mediaType": media_type, "digest": d,
                     "size": len(data)}, **extra)

    manifests, native = [], None
    for arch, path in binaries:
        with open(path, "rb") as f:
            exe = f.read()
        layer_tar = tar_bytes([(BINARY, exe, 0o755)], epoch)
        layer = gzipped(layer_tar)
        plat = PLATFORMS[arch]
        config = dict(plat, created=created, config={
            "User": "65532:65532",
            "Entrypoint": ["/" + BINARY],
            "Cmd": ["run"],
            "Labels": labels,
        }, rootfs={"type": "layers", "diff_ids": [digest(layer_tar)]},
            history=[{"created": created,
                      "created_by": "COPY %s /%s" % (BINARY, BINARY)}])
        cfg_desc = blob(canonical(config), OCI_CONFIG)
        layer_desc = blob(layer, OCI_LAYER)
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": cfg_desc, "layers": [layer_desc],
                    "annotations": {k: v for k, v in labels.items()
                                    if k != "org.opencontainers.image.description"}}
        manifests.append(blob(canonical(manifest), OCI_MANIFEST,
                              platform=plat))
        if arch == host_arch():
            native = (cfg_desc["digest"], layer_desc["digest"])
    image_index = {"schemaVersion": 2, "mediaType": OCI_INDEX,
                   "manifests": manifests,
                   "annotations": {k: labels[k] for k in (
                       "org.opencontainers.image.version",
                       "org.opencontainers.image.source",
                       "org.opencontainers.image.revision")}}
    top = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        blob(canonical(image_index), OCI_INDEX, annotations={
            "org.opencontainers.image.ref.name": args.version,
            "io.containerd.image.name": "%s:%s" % (BINARY, args.version)})]}
    members = [("oci-layout", canonical({"imageLayoutVersion": "1.0.0"}),
                0o644),
               ("index.json", canonical(top), 0o644)]
    if native is not None:
        members.append(("manifest.json", canonical([{
            "Config": "blobs/sha256/" + native[0][7:],
            "RepoTags": ["%s-oci:%s" % (BINARY, args.version)],
            "Layers": ["blobs/sha256/" + native[1][7:]]}]), 0o644))
    for d in sorted(blobs):
        members.append(("blobs/sha256/" + d[7:], blobs[d], 0o644))
    out = tar_bytes(members, epoch)
    with open(args.out + ".tmp", "wb") as f:
        f.write(out)
    os.replace(args.out + ".tmp", args.out)
    print("oci: %s, %d bytes: %s" % (args.out, len(out), ", ".join(
        "linux/%s" % a for a, _ in binaries)))


class Report:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok    " + name)
        else:
            self.failed += 1
            print("FAIL  %s %s" % (name, detail))
        return ok


def check(args, binaries):
    r = Report()
    with tarfile.open(args.out) as t:
        files = {m.name: t.extractfile(m).read() for m in t.getmembers()}

    def load(desc, media_type):
        name = "blobs/sha256/" + desc["digest"][7:]
        data = files.get(name)
        kind = {OCI_INDEX: "index", OCI_MANIFEST: "manifest",
                OCI_CONFIG: "config", OCI_LAYER: "layer"}[media_type]
        r.check("%s blob %s: digest, size, media type" % (
            kind, desc["digest"][:19]),
                data is not None and digest(data) == desc["digest"]
                and len(data) == desc["size"]
                and desc["mediaType"] == media_type, repr(desc))
        return data

    r.check("oci-layout 1.0.0", json.loads(files.get("oci-layout", b"{}"))
            == {"imageLayoutVersion": "1.0.0"})
    top = json.loads(files["index.json"])
    r.check("index.json names one tagged image index",
            len(top["manifests"]) == 1 and top["manifests"][0]["annotations"]
            ["org.opencontainers.image.ref.name"] == args.version)
    index = json.loads(load(top["manifests"][0], OCI_INDEX))
    want = {a: p for a, p in binaries}
    seen = []
    for m in index["manifests"]:
        arch = m["platform"]["architecture"]
        seen.append(arch)
        r.check("platform %s" % arch, m["platform"] == PLATFORMS.get(arch))
        manifest = json.loads(load(m, OCI_MANIFEST))
        config = json.loads(load(manifest["config"], OCI_CONFIG))
        layer = load(manifest["layers"][0], OCI_LAYER)
        labels = config["config"]["Labels"]
        r.check("%s config: arch, user, entrypoint, cmd" % arch,
                config["architecture"] == arch and config["os"] == "linux"
                and config["config"]["User"] == "65532:65532"
                and config["config"]["Entrypoint"] == ["/" + BINARY]
                and config["config"]["Cmd"] == ["run"])
        r.check("%s labels: version and source" % arch,
                labels.get("org.opencontainers.image.version") == args.version
                and "org.opencontainers.image.source" in labels
                and labels.get("org.opencontainers.image.revision"),
                repr(labels))
        raw = gzip.decompress(layer)
        r.check("%s layer's diff_id" % arch,
                config["rootfs"]["diff_ids"] == [digest(raw)])
        with tarfile.open(fileobj=io.BytesIO(raw)) as lt:
            members = lt.getmembers()
            ok = [m.name for m in members] == [BINARY] and \
                members[0].mode == 0o755 and members[0].uid == 0
            exe = lt.extractfile(members[0]).read() if ok else b""
        with open(want.get(arch, os.devnull), "rb") as f:
            r.check("%s layer holds exactly the binary %s" % (
                arch, want.get(arch)), ok and exe == f.read())
    r.check("platforms %s" % " ".join(sorted(want)),
            sorted(seen) == sorted(want), repr(seen))
    print("oci: %d passed, %d failed" % (r.passed, r.failed))
    return r.failed == 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["build", "check"])
    p.add_argument("out")
    p.add_argument("binaries", nargs="+", metavar="ARCH=BIN")
    p.add_argument("--version", required=True)
    p.add_argument("--source", default="")
    p.add_argument("--revision", default="")
    args = p.parse_args(argv)
    binaries = []
    for b in args.binaries:
        arch, _, path = b.partition("=")
        if arch not in PLATFORMS or not path:
            p.error("%s: want ARCH=BIN, ARCH one of %s" % (
                b, ", ".join(PLATFORMS)))
        binaries.append((arch, path))
    if args.mode == "build":
        build(args, binaries)
        return 0
    return 0 if check(args, binaries) else 1


if __name__ == "__main__":
    sys.exit(main())
