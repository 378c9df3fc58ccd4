"""Throwaway TLS certificates for the interop suite, made with the openssl CLI at test time.

Mirrors Tests/TestSupport/TestCertificates.swift: a trusted CA, a server certificate it signs
for IP:127.0.0.1 and DNS:localhost, a client certificate it signs, and a second, untrusted CA
with a server and a client certificate of its own. EC P-256, valid two days. No private key is
ever committed.
"""

from __future__ import annotations

import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVER_EXT = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n"
CLIENT_EXT = "extendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n"


@dataclass(frozen=True)
class Certificates:
    directory: Path

    def path(self, stem: str, suffix: str = "pem") -> str:
        return str(self.directory / f"{stem}.{suffix}")

    def read(self, stem: str, suffix: str = "pem") -> bytes:
        return (self.directory / f"{stem}.{suffix}").read_bytes()


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {result.stderr}")


def _ca(directory: Path, stem: str, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(directory / f"{stem}.key"), "-out", str(directory / f"{stem}.pem"), "-days", "2",
             "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def _leaf(directory: Path, stem: str, name: str, ca: str, extensions: str) -> None:
    ext = directory / f"{stem}.ext"
    ext.write_text(extensions)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(directory / f"{stem}.key"), "-out", str(directory / f"{stem}.csr"), "-subj", f"/CN={name}")
    _openssl("x509", "-req", "-in", str(directory / f"{stem}.csr"), "-CA", str(directory / f"{ca}.pem"),
             "-CAkey", str(directory / f"{ca}.key"), "-set_serial", str(random.randint(1, 2**31)), "-days", "2",
             "-extfile", str(ext), "-out", str(directory / f"{stem}.pem"))


def generate(directory: Path) -> Certificates:
    directory.mkdir(parents=True, exist_ok=True)
    _ca(directory, "ca", "ImageEdit Test CA")
    _ca(directory, "other-ca", "Untrusted Test CA")
    _leaf(directory, "server", "localhost", "ca", SERVER_EXT)
    _leaf(directory, "client", "imageedit-test-client", "ca", CLIENT_EXT)
    _leaf(directory, "other-server", "localhost", "other-ca", SERVER_EXT)
    _leaf(directory, "other-client", "imageedit-test-client", "other-ca", CLIENT_EXT)
    return Certificates(directory)
