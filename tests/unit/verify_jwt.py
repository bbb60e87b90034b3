"""Verify a JWS compact token with Python's cryptography, independently of
BearSSL: verify_jwt.py KEY.pem TOKEN_FILE. Prints the claims as JSON and
exits 0 when the signature holds, 1 otherwise. Called by test_jwt.c."""
import base64
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def main():
    with open(sys.argv[1], "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None).public_key()
    with open(sys.argv[2]) as f:
        token = f.read()
    head, body, sig = token.split(".")
    header = json.loads(b64(head))
    signed = (head + "." + body).encode()
    raw = b64(sig)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            assert header["alg"] == "RS256"
            key.verify(raw, signed, padding.PKCS1v15(), hashes.SHA256())
        else:
            size = (key.curve.key_size + 7) // 8
            assert len(raw) == 2 * size
            alg, digest = {32: ("ES256", hashes.SHA256()),
                           48: ("ES384", hashes.SHA384())}[size]
            assert header["alg"] == alg
            der = encode_dss_signature(int.from_bytes(raw[:size], "big"),
                                       int.from_bytes(raw[size:], "big"))
            key.verify(der, signed, ec.ECDSA(digest))
    except (InvalidSignature, AssertionError):
        return 1
    print(json.dumps({"header": header, "claims": json.loads(b64(body))}))
    return 0


sys.exit(main())
