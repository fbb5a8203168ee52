"""The cryptography of key pairs, as Nova does it: a new RSA key pair (or, for type
``x509``, a self-signed certificate) whose private half is shown once; a given
public key checked; and the fingerprint Nova computes (the MD5 of an OpenSSH key's
blob, the SHA-1 of a certificate's DER, colon-separated hex)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SSH = "ssh"
X509 = "x509"
KEY_BITS = 2048
CERTIFICATE_LIFETIME = timedelta(days=3650)


class InvalidPublicKey(ValueError):
    """A public key that is not one of its type (Nova's 400 "Keypair data is invalid")."""


@dataclass(frozen=True)
class GeneratedKey:
    private_key: str
    public_key: str
    fingerprint: str


def _colons(digest: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in digest)


def ssh_fingerprint(public_key: str) -> str:
    """The MD5 fingerprint of an OpenSSH public key (``ssh-keygen -l -E md5``'s)."""
    check_ssh_public_key(public_key)
    blob = base64.b64decode(public_key.split()[1])
    return _colons(hashlib.md5(blob, usedforsecurity=False).digest())


def check_ssh_public_key(public_key: str) -> None:
    """Raise :class:`InvalidPublicKey` unless ``public_key`` is an OpenSSH public key."""
    try:
        serialization.load_ssh_public_key(public_key.strip().encode())
        base64.b64decode(public_key.split()[1], validate=True)
    except (ValueError, IndexError, UnicodeEncodeError, UnsupportedAlgorithm) as exc:
        raise InvalidPublicKey("failed to generate fingerprint") from exc


def x509_fingerprint(certificate: str) -> str:
    """The SHA-1 fingerprint of a PEM certificate."""
    try:
        loaded = x509.load_pem_x509_certificate(certificate.encode())
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidPublicKey("failed to generate fingerprint") from exc
    return _colons(loaded.fingerprint(hashes.SHA1()))


def fingerprint(key_type: str, public_key: str) -> str:
    return x509_fingerprint(public_key) if key_type == X509 else ssh_fingerprint(public_key)


def _private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def generate(key_type: str, user_id: str) -> GeneratedKey:
    """A new key pair of ``key_type``; the certificate of an ``x509`` one names
    ``user_id`` (Nova makes it for WinRM's certificate logins)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    if key_type == X509:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id)])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + CERTIFICATE_LIFETIME)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(key, hashes.SHA256())
        )
        public = certificate.public_bytes(serialization.Encoding.PEM).decode()
        return GeneratedKey(_private_pem(key), public, x509_fingerprint(public))
    openssh = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    public = f"{openssh.decode()} Generated-by-Nova"
    return GeneratedKey(_private_pem(key), public, ssh_fingerprint(public))
