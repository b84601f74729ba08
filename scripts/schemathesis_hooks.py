"""Schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

Schemathesis follows the OpenAPI links create -> bind -> query -> unbind -> delete, but it cannot
compute TOTP codes. These hooks remember each created device's base32 seed (from create's 201
answer) and fill bind's two codes (steps t-1 and t) and unbind's code from it; they also steer
create to existing IAM users (MFA_USERS, comma separated, plus those user-create made), since a
random user_id names no user.

With MFA_STEER=1 (the stateful run only) they also make the two entry points of the walk
succeed: token gets the throwaway administrator of the local `serve` (MFA_ADMIN_NAME,
MFA_ADMIN_PASSWORD, MFA_ADMIN_DOMAIN) and user-create gets the real domain_id (MFA_DOMAIN_ID),
a fresh name and a valid password; and a bind, unbind, delete or query that names no device this
run created (most do: links are followed only some of the time, and random values name nothing)
is pointed at one that did: bind at an unbound one, unbind and query at a bound one. Nothing here prints a secret.
"""

import os
import time

import pyotp
import schemathesis

CREATE = ("POST", "/v3.0/OS-MFA/virtual-mfa-devices")
BIND = ("PUT", "/v3.0/OS-MFA/mfa-devices/bind")
UNBIND = ("PUT", "/v3.0/OS-MFA/mfa-devices/unbind")
TOKEN = ("POST", "/v3/auth/tokens")
USER_CREATE = ("POST", "/v3.0/OS-USER/users")

STEER = os.environ.get("MFA_STEER") == "1"

USERS = [u for u in os.environ.get("MFA_USERS", "").split(",") if u]
SEEDS = {}  # serial_number -> base32 seed
OWNERS = {}  # serial_number -> user_id
BOUND = set()  # serial numbers
DELETE = ("DELETE", "/v3.0/OS-MFA/virtual-mfa-devices")
QUERY = ("GET", "/v3.0/OS-MFA/users/{user_id}/virtual-mfa-device")
_next_user = [0]
_made_users = [0]


def _pick(bound):
    """The newest device this run created (bound or not), or None."""
    for serial in reversed(list(SEEDS)):
        if (serial in BOUND) == bound:
            return serial
    return None


def _steer(route, case):
    env = os.environ
    body = case.body if isinstance(case.body, dict) else {}
    known = body.get("serial_number") in SEEDS if isinstance(body.get("serial_number"), str) else False
    if route in (BIND, UNBIND):
        serial = body["serial_number"] if known else _pick(bound=route == UNBIND)
        if serial is not None:
            case.body = {"user_id": OWNERS[serial], "serial_number": serial}
    elif route == DELETE and case.query and case.query.get("serial_number") not in SEEDS:
        serial = _pick(bound=False)
        if serial is not None:
            case.query = {"user_id": OWNERS[serial], "serial_number": serial}
    elif route == QUERY and (case.path_parameters or {}).get("user_id") not in OWNERS.values():
        serial = _pick(bound=True)
        if serial is not None:
            case.path_parameters = {"user_id": OWNERS[serial]}
    if route == TOKEN:
        user = {"name": env["MFA_ADMIN_NAME"], "password": env["MFA_ADMIN_PASSWORD"],
                "domain": {"name": env["MFA_ADMIN_DOMAIN"]}}
        case.body = {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}}}
    elif route == USER_CREATE:
        _made_users[0] += 1
        case.body = {"user": {"name": f"stateful{_made_users[0]}", "domain_id": env["MFA_DOMAIN_ID"],
                              "password": "Stateful-user1", "enabled": True}}


def _route(case):
    return (case.operation.method.upper(), case.operation.path)


@schemathesis.hook
def before_call(context, case, kwargs):
    route = _route(case)
    if STEER:
        _steer(route, case)
    body = case.body if isinstance(case.body, dict) else None
    if route == CREATE and USERS and body is not None:
        device = body.get("virtual_mfa_device")
        if isinstance(device, dict) and device.get("user_id") not in USERS:
            device["user_id"] = USERS[_next_user[0] % len(USERS)]
            _next_user[0] += 1
    elif route in (BIND, UNBIND) and body is not None:
        serial = body.get("serial_number")
        seed = SEEDS.get(serial) if isinstance(serial, str) else None
        if seed is None:
            return
        totp = pyotp.TOTP(seed)
        now = time.time()
        if route == BIND:
            body["authentication_code_first"] = totp.at(now - totp.interval)
            body["authentication_code_second"] = totp.at(now)
        else:
            body["authentication_code"] = totp.at(now)


@schemathesis.hook
def after_call(context, case, response):
    route = _route(case)
    if route == USER_CREATE and response.status_code == 201:
        try:
            USERS.append(response.json()["user"]["id"])
        except (ValueError, KeyError, TypeError):
            pass
    body = case.body if isinstance(case.body, dict) else {}
    if response.status_code == 204 and isinstance(body.get("serial_number"), str):
        if route == BIND:
            BOUND.add(body["serial_number"])
        elif route == UNBIND:
            BOUND.discard(body["serial_number"])
    if route == DELETE and response.status_code == 204 and case.query:
        serial = case.query.get("serial_number")
        SEEDS.pop(serial, None)
        OWNERS.pop(serial, None)
        BOUND.discard(serial)
    if route != CREATE or response.status_code != 201:
        return
    try:
        device = response.json()["virtual_mfa_device"]
        SEEDS[device["serial_number"]] = device["base32_string_seed"]
        OWNERS[device["serial_number"]] = body["virtual_mfa_device"]["user_id"]
    except (ValueError, KeyError, TypeError):
        pass
