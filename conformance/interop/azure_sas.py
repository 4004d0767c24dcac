#!/usr/bin/env python3
"""Print an account SAS query string for Azurite's well-known development account.

The account name and key are the emulator's published defaults (devstoreaccount1), not a
secret; the SAS grants read/write/delete/list/add/create on blobs until 2099.
"""
import base64
import hashlib
import hmac
import urllib.parse

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
FIELDS = {"sv": "2019-02-02", "ss": "b", "srt": "sco", "sp": "rwdlac",
          "se": "2099-01-01T00:00:00Z", "spr": "http"}

# Account SAS string-to-sign (service version 2019-02-02): one field per line.
to_sign = "\n".join([ACCOUNT, FIELDS["sp"], FIELDS["ss"], FIELDS["srt"], "", FIELDS["se"], "",
                     FIELDS["spr"], FIELDS["sv"], ""])
sig = base64.b64encode(hmac.new(base64.b64decode(KEY), to_sign.encode(), hashlib.sha256).digest())
print(urllib.parse.urlencode({**FIELDS, "sig": sig.decode()}))
