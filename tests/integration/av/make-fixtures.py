#!/usr/bin/env python3
"""Writes a tiny ClamAV signature database and test messages for the AntiVirus tests.

    make-fixtures.py DIR   ->  DIR/db/       test.hdb, test.ndb (EICAR + the custom marker)
                               DIR/db2/      the same plus a second marker (for the reload test)
                               DIR/msgs/*.eml
ClamAV ships no signatures here and cannot download any, so the tests bring their own.
EICAR is assembled at run time so that no file of the tree holds the contiguous string
(other scanners would flag the source tree)."""
import binascii, os, struct, sys, zipfile, zlib, io
from email.message import EmailMessage
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email import encoders

out = sys.argv[1]
EICAR = (r"X5O!P%@AP[4\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-" + r"TEST-FILE!$H+H*").encode()
assert len(EICAR) == 68
MARKER = b"PMX-AV-CUSTOM-TEST-" + b"SIGNATURE-5b2e"
MARKER2 = b"PMX-AV-RELOAD-TEST-" + b"SIGNATURE-91c4"

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)

hexs = lambda b: binascii.hexlify(b).decode()
for db, extra in (("db", []), ("db2", [("Test.Custom.Reload.NDB-1", MARKER2)])):
    write(f"{out}/{db}/test.hdb", b"44d88612fea8a8f36de82e1278abb02f:68:Test.EICAR.HDB-1\n")
    lines = [f"Test.EICAR.NDB-1:0:*:{hexs(EICAR)}", f"Test.Custom.Marker.NDB-1:0:*:{hexs(MARKER)}"]
    lines += [f"{name}:0:*:{hexs(sig)}" for name, sig in extra]
    write(f"{out}/{db}/test.ndb", ("\n".join(lines) + "\n").encode())

def zip_of(members, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()

def zipcrypto_zip(name, data, password):
    """A zip whose one member is encrypted with traditional PKWARE encryption (ZipCrypto),
    which Python's zipfile reads but cannot write."""
    crctab = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        crctab.append(c)
    keys = [0x12345678, 0x23456789, 0x34567890]
    def update(b):
        keys[0] = (keys[0] >> 8) ^ crctab[(keys[0] ^ b) & 0xFF]
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = (keys[2] >> 8) ^ crctab[(keys[2] ^ (keys[1] >> 24)) & 0xFF]
    for b in password:
        update(b)
    crc = zlib.crc32(data) & 0xFFFFFFFF
    plain = bytes(11) + bytes([crc >> 24]) + data
    enc = bytearray()
    for b in plain:
        t = (keys[2] | 2) & 0xFFFF
        enc.append(b ^ (((t * (t ^ 1)) >> 8) & 0xFF))
        update(b)
    fname = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 1, 0, 0, 0, crc, len(enc), len(data), len(fname), 0) + fname + bytes(enc)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 1, 0, 0, 0, crc, len(enc), len(data),
                          len(fname), 0, 0, 0, 0, 0, 0) + fname
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local), 0)
    z = local + central + end
    assert zipfile.ZipFile(io.BytesIO(z)).read(name, pwd=password) == data
    return z

def bomb_zip(members, size):
    """Highly compressed zeros: a few hundred KB that unpack to members * size bytes."""
    zeros = bytes(size)
    return zip_of([(f"zeros-{i}.bin", zeros) for i in range(members)])

def base_msg(subject, body):
    m = EmailMessage()
    m["From"] = "Sender <sender@example.test>"
    m["To"] = "rcpt@example.test"
    m["Subject"] = subject
    m["Message-ID"] = f"<{subject.replace(' ', '-')}@example.test>"
    m.set_content(body)
    return m

msgs = {}
m = base_msg("eicar attachment", "Attached.\n")
m.add_attachment(EICAR, maintype="application", subtype="octet-stream", filename="eicar.com")
msgs["eicar-base64"] = bytes(m)

# Quoted-printable with every byte encoded: only a decoder sees the signature.
qp = "".join("=%02X" % b for b in EICAR)
qp = "=\n".join(qp[i:i + 72] for i in range(0, len(qp), 72))
msgs["eicar-qp"] = ("From: sender@example.test\nTo: rcpt@example.test\nSubject: eicar quoted-printable\n"
                    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
                    "--b1\nContent-Type: text/plain\n\nSee attachment.\n"
                    "--b1\nContent-Type: application/octet-stream; name=\"eicar.com\"\n"
                    "Content-Disposition: attachment; filename=\"eicar.com\"\n"
                    "Content-Transfer-Encoding: quoted-printable\n\n" + qp + "\n--b1--\n").encode()

# A plain (7bit) attachment: the 68 printable bytes as they are.
msgs["eicar-plain"] = (b"From: sender@example.test\nTo: rcpt@example.test\nSubject: eicar plain\n"
                       b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b2\"\n\n"
                       b"--b2\nContent-Type: text/plain\n\nSee attachment.\n"
                       b"--b2\nContent-Type: application/octet-stream; name=\"eicar.com\"\n"
                       b"Content-Disposition: attachment; filename=\"eicar.com\"\n"
                       b"Content-Transfer-Encoding: 7bit\n\n" + EICAR + b"\n--b2--\n")

# EICAR in a zip, attached to a multipart message, forwarded as message/rfc822 inside another.
inner = MIMEMultipart()
inner["From"] = "origin@example.test"
inner["To"] = "sender@example.test"
inner["Subject"] = "the original"
inner.attach(MIMEText("Original text.\n"))
part = MIMEBase("application", "zip")
part.set_payload(zip_of([("docs/eicar.com", EICAR)]))
encoders.encode_base64(part)
part.add_header("Content-Disposition", "attachment", filename="docs.zip")
inner.attach(part)
outer = MIMEMultipart()
outer["From"] = "sender@example.test"
outer["To"] = "rcpt@example.test"
outer["Subject"] = "Fwd: the original"
outer.attach(MIMEText("Forwarding this.\n"))
outer.attach(MIMEMessage(inner))
msgs["eicar-forwarded-zip"] = outer.as_bytes()

m = base_msg("custom marker", "see attachment\n")
m.add_attachment(b"notes\n" + MARKER + b"\n", maintype="text", subtype="plain", filename="notes.txt", cte="base64")
msgs["custom-marker"] = bytes(m)

m = base_msg("reload marker", "see attachment\n")
m.add_attachment(b"notes\n" + MARKER2 + b"\n", maintype="text", subtype="plain", filename="notes.txt", cte="base64")
msgs["reload-marker"] = bytes(m)

m = base_msg("encrypted zip", "The password is in another mail.\n")
m.add_attachment(zipcrypto_zip("secret.txt", b"nothing to see, but nobody can tell\n" * 20, b"pw123"),
                 maintype="application", subtype="zip", filename="secret.zip")
msgs["encrypted-zip"] = bytes(m)

m = base_msg("zip bomb", "Unpack me.\n")
m.add_attachment(bomb_zip(4, 64 << 20), maintype="application", subtype="zip", filename="bomb.zip")
msgs["zip-bomb"] = bytes(m)

m = base_msg("clean message", "Nothing to see here.\n")
m.add_attachment(zip_of([("readme.txt", b"plain text file\n")]), maintype="application", subtype="zip", filename="readme.zip")
msgs["clean"] = bytes(m)

for name, data in msgs.items():
    write(f"{out}/msgs/{name}.eml", data)
write(f"{out}/eicar.com", EICAR)
print(f"wrote {len(msgs)} messages and 2 signature databases to {out}")
