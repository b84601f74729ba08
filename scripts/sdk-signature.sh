#!/usr/bin/env bash
# Proves that `mfa-harness sign` signs requests exactly as Huawei Cloud's official Python SDK
# does (SDK-HMAC-SHA256): the SDK (PyPI huaweicloudsdkcore, installed into a fresh venv) signs
# a set of fixed requests at a fixed date, `mfa-harness sign` signs the same ones, and every
# Authorization value must be identical. No vector is stored: the SDK makes them at run time.
#
#   scripts/sdk-signature.sh target/debug/mfa-harness
set -euo pipefail
BINARY=$(realpath "${1:?usage: $0 BINARY}")
VENV=${SDK_VENV:-$(mktemp -d)/venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check huaweicloudsdkcore
fi
"$VENV/bin/pip" show huaweicloudsdkcore | grep -E '^(Name|Version):' | tr '\n' ' '; echo

BINARY="$BINARY" "$VENV/bin/python" - <<'PY'
import os, subprocess, sys
from urllib.parse import urlparse, parse_qsl
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

AK, SK, DATE = "HPUAEXAMPLEAK0000001", "ExampleSecretKey/With+Symbols=0123456789", "20240102T030405Z"
JSON = '{"virtual_mfa_device":{"name":"phone","user_id":"09f99d8f6a001d4f1f01c00c31968"}}'

# (method, url, [(header name, value)], body)
REQUESTS = [
    ("GET", "https://iam.myhuaweicloud.com/v3.0/OS-MFA/virtual-mfa-devices", [], ""),
    ("GET", "https://iam.myhuaweicloud.com/v3.0/OS-MFA/users/16b26081f43d/virtual-mfa-device/", [], ""),
    ("DELETE", "https://iam.example.com:8443/v3.0/OS-MFA/virtual-mfa-devices"
               "?user_id=09f6bd85fc80&serial_number=iam%3A09f6bd6a968%3Amfa%2Fphone", [], ""),
    ("GET", "http://127.0.0.1:8080/v3/users?b=2&a=z&a=y&empty=&flag&serial=iam:raw:mfa/x&q=a+b&u=caf%C3%A9", [], ""),
    ("POST", "https://iam.myhuaweicloud.com/v3.0/OS-MFA/virtual-mfa-devices",
     [("Content-Type", "application/json;charset=UTF-8"), ("x-MiXeD-Case", "  padded value  "),
      ("X-Project-Id", "0123456789abcdef")], JSON),
    ("PUT", "https://iam.myhuaweicloud.com/v3.0/OS-MFA/users/a%20b%2Fc/x%7Ey/caf%C3%A9:1",
     [("Content-Type", "application/json")], '{"user_id":"u"}'),
    ("PUT", "https://iam.myhuaweicloud.com/v3.0/OS-MFA/mfa-devices/bind",
     [("Content-Type", "text/plain"), ("X_Not_Signed", "underscore")], "not json"),
    ("POST", "https://iam.myhuaweicloud.com/v3/auth/tokens?nocatalog=true",
     [("Content-Type", "application/json"), ("User-Agent", "curl/8.5.0")], ""),
    ("patch", "http://[::1]:9000/v3.0/OS-USER/users/u1/login-protect?x=1&x=0&x=",
     [("Accept", "application/json"), ("X-Extra", "\tTabbed\t")], '{"login_protect":{"enabled":true}}'),
    ("DELETE", "https://iam.myhuaweicloud.com/", [], ""),
]

failed = 0
for method, url, headers, body in REQUESTS:
    parsed = urlparse(url)
    request = SdkRequest(method=method, schema=parsed.scheme, host=parsed.netloc, resource_path=parsed.path,
                         query_params=parse_qsl(parsed.query, keep_blank_values=True),
                         header_params=dict(headers + [("X-Sdk-Date", DATE)]), body=body)
    sdk = Signer(BasicCredentials(AK, SK)).sign(request).header_params["Authorization"]
    command = [os.environ["BINARY"], "sign", "--method", method, "--url", url, "--date", DATE,
               "--access-key", AK, "--secret-key", SK, "--body", body]
    for name, value in headers:
        command += ["--header", f"{name}:{value}"]
    out = subprocess.run(command, capture_output=True, text=True)
    ours = next((l.split(": ", 1)[1] for l in out.stdout.splitlines() if l.startswith("Authorization: ")),
                f"(exit {out.returncode}: {out.stderr.strip()})")
    same = sdk == ours
    failed += not same
    print(f"{'same' if same else 'DIFFERENT'}  {method} {url}\n  sdk          {sdk}\n  mfa-harness  {ours}")
print(f"{len(REQUESTS) - failed} of {len(REQUESTS)} signatures identical")
sys.exit(1 if failed else 0)
PY
