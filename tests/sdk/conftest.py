"""Shared fixtures of the SDK interop tests.

The tests drive the official Python SDKs against a running conform emulator. `tests/sdk/run.sh` starts
one and passes its base URL in CONFORM_ENDPOINT (e.g. http://127.0.0.1:40123). Each test puts the
emulator in the state it needs through the provider-state endpoint and tears that state down afterwards.
"""
import json
import os
import re
import urllib.error
import urllib.request

import pytest

# Default credentials the emulator accepts (see tests/sdk/README.md).
ALIBABA_AK = "conform-alibaba-ak"
ALIBABA_SECRET = "conform-alibaba-secret"
HUAWEI_AK = "CONFORMHUAWEIAK00000"
HUAWEI_SK = "conform-huawei-sk"
REGION = "cn-hangzhou"

# Timeouts for every SDK call: a hung emulator fails a test instead of stalling the run.
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 20

STATE_PATH = "/__conform/provider-states"


def endpoint_url():
    url = os.environ.get("CONFORM_ENDPOINT", "").strip()
    if not url:
        raise pytest.UsageError(
            "CONFORM_ENDPOINT is not set: run tests/sdk/run.sh, or start `conform emulate` yourself and "
            "export CONFORM_ENDPOINT=http://127.0.0.1:PORT")
    if "://" not in url:
        url = "http://" + url
    return url.rstrip("/")


@pytest.fixture(scope="session")
def endpoint():
    """Base URL of the emulator, e.g. http://127.0.0.1:40123."""
    return endpoint_url()


@pytest.fixture(scope="session")
def hostport(endpoint):
    """host:port of the emulator, the form the Alibaba SDKs take as their endpoint."""
    return endpoint.split("://", 1)[1]


class ProviderStateError(AssertionError):
    pass


class ProviderStates:
    """Client of the emulator's provider-state endpoint.

    setup() returns the state's values ({"SourceId": ..., "credentials": {...}, ...}); every state set
    up is torn down (in reverse order) by teardown_all(), which the `states` fixture calls after the test.
    """

    def __init__(self, base_url):
        self.url = base_url + STATE_PATH
        self._active = []

    def _post(self, payload):
        data = json.dumps(payload).encode("utf-8")
        req = urllib.request.Request(self.url, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=READ_TIMEOUT_S) as resp:
                body = resp.read()
        except urllib.error.HTTPError as e:
            raise ProviderStateError(
                f"provider state {payload!r} answered HTTP {e.code}: {e.read().decode('utf-8', 'replace')}") from None
        if not body.strip():
            return {}
        try:
            return json.loads(body)
        except ValueError:
            raise ProviderStateError(f"provider state {payload!r} answered non-JSON: {body[:500]!r}") from None

    def setup(self, service, state, /, **params):
        params = {k: v for k, v in params.items() if v is not None}
        params["service"] = service
        values = self._post({"action": "setup", "state": state, "params": params})
        if not isinstance(values, dict):
            raise ProviderStateError(f"setup of {state!r} answered {values!r}, not an object")
        self._active.append((state, params, values))
        return values

    def probe(self, resource, id_):
        answer = self._post({"action": "probe", "resource": resource, "id": id_})
        if not isinstance(answer, dict) or not isinstance(answer.get("exists"), bool):
            raise ProviderStateError(f"probe of {resource} {id_!r} answered {answer!r}, not {{\"exists\": bool}}")
        return answer["exists"]

    def teardown_all(self):
        errors = []
        while self._active:
            state, params, values = self._active.pop()
            try:
                self._post({"action": "teardown", "state": state, "params": params, "values": values})
            except ProviderStateError as e:
                errors.append(str(e))
        if errors:
            raise ProviderStateError("; ".join(errors))


@pytest.fixture
def states(endpoint):
    s = ProviderStates(endpoint)
    yield s
    s.teardown_all()


def require(values, *names):
    """The named values of a provider state's answer; fails clearly when one is missing or empty."""
    missing = [n for n in names if not values.get(n)]
    assert not missing, f"provider state answer {values!r} lacks {missing}"
    return [values[n] for n in names] if len(names) > 1 else values[names[0]]


def credentials_of(values, token_keys=("security_token", "token")):
    """(access key id, secret, security token or None) from a `caller lacks permission` answer.

    Alibaba's answer carries an STS token as `token`; for Huawei a `token` would be an IAM user token
    (X-Auth-Token), which AK/SK signing does not use, so the Huawei tests only take `security_token`."""
    c = values.get("credentials")
    assert isinstance(c, dict), f"`caller lacks permission` answered {values!r}: no `credentials` object"
    ak = c.get("access_key_id") or c.get("ak")
    sk = c.get("access_key_secret") or c.get("secret_access_key") or c.get("sk")
    assert ak and sk, f"`credentials` {c!r} lacks access_key_id / access_key_secret"
    return ak, sk, next((c[k] for k in token_keys if c.get(k)), None)


def assert_request_id(rid):
    """A request id the SDK read from the answer: a real, non-empty string ("None" is what the Tea SDK
    makes of a missing one)."""
    assert isinstance(rid, str), f"request id {rid!r} is not a string"
    assert rid.strip() not in ("", "None", "null"), f"request id {rid!r} is empty"


HUAWEI_CODE = re.compile(r"^[A-Z][A-Za-z0-9]*\.\d{4}$")


def assert_huawei_code_shape(code):
    """For codes the documents leave open: Huawei codes look like `SMS.2015`, `WKS.0001`, `APIGW.0301`."""
    assert isinstance(code, str) and HUAWEI_CODE.match(code), f"error code {code!r} is not like SVC.0000"
