"""The release binary as shipped: size, static linking, and a run in an
otherwise empty root file system."""

import os
import shutil
import stat
import struct

import pytest

from conftest import (RELEASE_BIN, parse_log, require_binary,
                      token_dir_listing)

SIZE_LIMIT = 512000
PT_DYNAMIC, PT_INTERP = 2, 3
DT_NULL, DT_NEEDED = 0, 1
ET_DYN = 3


def elf_info(path):
    """(e_type, program headers, DT_NEEDED count) of an ELF file."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\x7fELF", "%s is not an ELF file" % path
    cls, endian = data[4], data[5]
    assert cls in (1, 2) and endian in (1, 2)
    e = "<" if endian == 1 else ">"
    if cls == 2:
        e_type, = struct.unpack_from(e + "H", data, 16)
        e_phoff, = struct.unpack_from(e + "Q", data, 32)
        e_phentsize, e_phnum = struct.unpack_from(e + "HH", data, 54)
    else:
        e_type, = struct.unpack_from(e + "H", data, 16)
        e_phoff, = struct.unpack_from(e + "I", data, 28)
        e_phentsize, e_phnum = struct.unpack_from(e + "HH", data, 42)
    phdrs = []
    for i in range(e_phnum):
        off = e_phoff + i * e_phentsize
        if cls == 2:
            p_type, _flags, p_offset, _va, _pa, p_filesz = \
                struct.unpack_from(e + "IIQQQQ", data, off)
        else:
            p_type, p_offset, _va, _pa, p_filesz = \
                struct.unpack_from(e + "IIIII", data, off)
        phdrs.append((p_type, p_offset, p_filesz))
    needed = 0
    for p_type, p_offset, p_filesz in phdrs:
        if p_type != PT_DYNAMIC:
            continue
        fmt, size = (e + "qQ", 16) if cls == 2 else (e + "iI", 8)
        for off in range(p_offset, p_offset + p_filesz, size):
            tag, _val = struct.unpack_from(fmt, data, off)
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED:
                needed += 1
    return e_type, phdrs, needed


@pytest.fixture(scope="module")
def release():
    return require_binary(RELEASE_BIN)


def test_release_binary_size(release):
    size = os.path.getsize(release)
    assert size < SIZE_LIMIT, "%s is %d bytes, limit %d" % (
        release, size, SIZE_LIMIT)


def test_release_binary_is_static(release):
    e_type, phdrs, needed = elf_info(release)
    types = [p[0] for p in phdrs]
    assert PT_INTERP not in types, \
        "%s has a PT_INTERP header: it is dynamically linked" % release
    assert needed == 0, "%s lists %d DT_NEEDED libraries" % (release, needed)


def test_release_binary_is_position_independent(release):
    # A static PIE: no loader, yet the kernel still places it at a random
    # address, which matters for the process that holds the credential.
    e_type, _phdrs, _needed = elf_info(release)
    assert e_type == ET_DYN, "e_type %d: not a static PIE" % e_type


def test_elf_parser_sees_dynamic_binary():
    # Guard against a parser that never finds anything.
    _t, phdrs, needed = elf_info("/bin/sh")
    assert PT_INTERP in [p[0] for p in phdrs] and needed >= 1


def test_empty_root(sidecar, pki):
    """Only the binary, a CA bundle at the default path, /etc/hosts, the SA
    token and the output directory: no /dev, /proc, /tmp, libc, resolv.conf,
    nsswitch.conf or /etc/services."""
    root = sidecar.tmp / "root"
    os.makedirs(root / "etc/ssl/certs")
    os.makedirs(root / "var/run/secrets/tokens")
    os.makedirs(root / "out")
    shutil.copy2(sidecar.binary, root / "tokenbridge-sidecar")
    shutil.copy(pki.ec.root_cert, root / "etc/ssl/certs/ca-certificates.crt")
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n")
    (root / "var/run/secrets/tokens/sa-token").write_text(
        sidecar.sa_token + "\n")
    (root / "out/token").write_bytes(b"old")
    srv = sidecar.server()
    res = sidecar.run(
        chroot=root, binary="/tokenbridge-sidecar",
        env={"SA_TOKEN_PATH": "/var/run/secrets/tokens/sa-token",
             "OUTPUT_TOKEN_PATH": "/out/token",
             "EXCHANGE_URL": srv.url("/token")},
        unset=["CA_BUNDLE_PATH"], check_log=False)
    assert res.rc == 0, "the exchange failed in an empty root\n%s" % res
    records = parse_log(res.stderr)
    assert not [r for r in records if r["level"] == "error"], str(res)
    assert token_dir_listing(root / "out") == ["token"]
    out = root / "out/token"
    assert out.read_bytes() == srv.issued_tokens[-1].encode()
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert srv.requests[0].form["subject_token"] == sidecar.sa_token
    found = sorted(os.listdir(root))
    assert found == ["etc", "out", "tokenbridge-sidecar", "var"], \
        "the sidecar created %r in the root" % found
