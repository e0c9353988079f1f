"""The security tests' PKI, made with the `openssl` command line alone (Debian's openssl 3.0):
two CAs (A, the one Sluice trusts, and B, someone else's), two server certificates for
127.0.0.1 and localhost signed by A (the second, for rotation, with another key, serial and
end date), client certificates signed by A and by B, and an expired client certificate
signed by A (made with `openssl ca`, which alone takes explicit start and end dates in 3.0).
Keys are EC P-256. Made once under harness.DATA/pki; make() returns the paths.
"""
import os
import shutil
import ssl
import subprocess

from harness import DATA

PKI_DIR = os.path.join(DATA, "pki")

# Distinct serials: a test compares the certificate a connection was served with the files.
SERIALS = {"server": 0x5E1001, "server2": 0x5E1002, "client": 0x5E2001, "client-b": 0x5E2002,
           "client-expired": 0x5E2003}

CA_EXT = """basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"""
SERVER_EXT = """basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""
CLIENT_EXT = """basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

# `openssl ca` for the expired certificate: a minimal CA database in <dir>/ca-db.
CA_CONFIG = """[ ca ]
default_ca = e2e
[ e2e ]
dir = {db}
database = $dir/index.txt
new_certs_dir = $dir/new
serial = $dir/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ client_ext ]
""" + CLIENT_EXT


def _openssl(*args, input_=None):
    p = subprocess.run(["openssl", *args], capture_output=True, text=True, input=input_)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


def _key(path):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)


def _ca(d, name, cn):
    key, pem = os.path.join(d, f"{name}.key"), os.path.join(d, f"{name}.pem")
    _key(key)
    # `req -x509` with the extensions given by a file section (openssl 3.0 has -addext too,
    # but a file keeps every extension of the CA in one place).
    cfg = os.path.join(d, f"{name}.cnf")
    open(cfg, "w").write("[ req ]\ndistinguished_name = dn\nx509_extensions = v3_ca\nprompt = no\n"
                         f"[ dn ]\nCN = {cn}\n[ v3_ca ]\n" + CA_EXT)
    _openssl("req", "-x509", "-new", "-key", key, "-config", cfg, "-days", "3650", "-sha256",
             "-set_serial", "1", "-out", pem)
    return pem, key


def _leaf(d, name, cn, ca_pem, ca_key, ext_text, days):
    key, csr, ext, pem = (os.path.join(d, f"{name}.{x}") for x in ("key", "csr", "ext", "pem"))
    _key(key)
    _openssl("req", "-new", "-key", key, "-subj", f"/CN={cn}", "-out", csr)
    open(ext, "w").write(ext_text)
    _openssl("x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-set_serial",
             str(SERIALS[name]), "-days", str(days), "-sha256", "-extfile", ext, "-out", pem)
    return pem, key


def _expired(d, name, cn, ca_pem, ca_key):
    db = os.path.join(d, "ca-db")
    shutil.rmtree(db, ignore_errors=True)
    os.makedirs(os.path.join(db, "new"))
    open(os.path.join(db, "index.txt"), "w").close()
    open(os.path.join(db, "serial"), "w").write("%X\n" % SERIALS[name])
    cfg = os.path.join(db, "ca.cnf")
    open(cfg, "w").write(CA_CONFIG.format(db=db))
    key, csr, pem = (os.path.join(d, f"{name}.{x}") for x in ("key", "csr", "pem"))
    _key(key)
    _openssl("req", "-new", "-key", key, "-subj", f"/CN={cn}", "-out", csr)
    _openssl("ca", "-batch", "-config", cfg, "-cert", ca_pem, "-keyfile", ca_key, "-in", csr,
             "-out", pem, "-notext", "-extensions", "client_ext",
             "-startdate", "20200101000000Z", "-enddate", "20200102000000Z")
    return pem, key


def make(d=PKI_DIR):
    """Makes the PKI once (again when a file is missing); returns a dict of paths:
    ca, ca_key, ca_b, ca_b_key, server_cert, server_key, server2_cert, server2_key,
    client_cert, client_key, client_b_cert, client_b_key, expired_cert, expired_key, dir."""
    out = {"dir": d}
    names = {"ca": "ca-a", "ca_b": "ca-b", "server": "server", "server2": "server2", "client": "client",
             "client_b": "client-b", "expired": "client-expired"}
    for k, n in names.items():
        if k in ("ca", "ca_b"):
            out[k], out[k + "_key"] = os.path.join(d, n + ".pem"), os.path.join(d, n + ".key")
        else:
            out[k + "_cert"], out[k + "_key"] = os.path.join(d, n + ".pem"), os.path.join(d, n + ".key")
    if all(os.path.exists(p) for k, p in out.items() if k != "dir"):
        return out
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    _ca(d, "ca-a", "Sluice e2e CA A")
    _ca(d, "ca-b", "Sluice e2e CA B (untrusted)")
    _leaf(d, "server", "sluice-e2e-server", out["ca"], out["ca_key"], SERVER_EXT, 3650)
    _leaf(d, "server2", "sluice-e2e-server-rotated", out["ca"], out["ca_key"], SERVER_EXT, 3000)
    _leaf(d, "client", "sluice-e2e-client", out["ca"], out["ca_key"], CLIENT_EXT, 3650)
    _leaf(d, "client-b", "sluice-e2e-client-b", out["ca_b"], out["ca_b_key"], CLIENT_EXT, 3650)
    _expired(d, "client-expired", "sluice-e2e-client-expired", out["ca"], out["ca_key"])
    return out


def not_after(pem):
    """A certificate's notAfter as Unix seconds."""
    line = _openssl("x509", "-noout", "-enddate", "-in", pem).strip()  # notAfter=Nov 27 07:00:00 2036 GMT
    return int(ssl.cert_time_to_seconds(line.split("=", 1)[1]))


def serial(pem):
    return int(_openssl("x509", "-noout", "-serial", "-in", pem).strip().split("=", 1)[1], 16)


def der(pem):
    """The certificate's DER bytes (what SSLSocket.getpeercert(True) returns)."""
    return ssl.PEM_cert_to_DER_cert(open(pem).read())


def install(cert_src, key_src, cert_dst, key_dst):
    """Replaces a served pair the way an operator (or cert-manager) does: both written
    under temporary names beside the targets, then renamed over them, key first."""
    tmp_key, tmp_cert = key_dst + ".new", cert_dst + ".new"
    shutil.copyfile(key_src, tmp_key)
    shutil.copyfile(cert_src, tmp_cert)
    os.rename(tmp_key, key_dst)
    os.rename(tmp_cert, cert_dst)
