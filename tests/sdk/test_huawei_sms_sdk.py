"""Huawei Cloud SMS SDK (huaweicloudsdksms v3, huaweicloudsdkcore) against the emulator:
DELETE /v3/tasks/{task_id}, AK/SK-signed (SDK-HMAC-SHA256), no X-Auth-Token.

Errors surface as ClientRequestException (4xx) / ServerResponseException (5xx) with error_code/error_msg
from the body and request_id from the X-Request-Id response header.
"""
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdksms.v3 import DeleteTaskRequest, SmsClient

from conftest import (CONNECT_TIMEOUT_S, HUAWEI_AK, HUAWEI_SK, READ_TIMEOUT_S, assert_huawei_code_shape,
                      assert_request_id, credentials_of, require)

SERVICE = "huawei-sms"
# Seed 002, "Constraints": a task cannot be deleted while its source server is connected and in one of these.
BLOCKING = ["initialize", "stopping", "deleting", "cloning", "replicate", "syncing", "cutovering", "skipping",
            "clearing", "premiging"]
# The other source-server states of the SDK.
NOT_BLOCKING = ["unavailable", "waiting", "stopped", "cleared", "clearfailed", "premigready", "premiged",
                "premigfailed", "finished", "error"]


@pytest.fixture
def make_client(endpoint):
    def make(ak=HUAWEI_AK, sk=HUAWEI_SK, security_token=None):
        cred = BasicCredentials(ak, sk)
        if security_token:
            cred = cred.with_security_token(security_token)
        cfg = HttpConfig.get_default_config()
        cfg.timeout = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
        # No with_region(): with a region the SDK would ask IAM for a project id.
        return SmsClient.new_builder().with_credentials(cred).with_http_config(cfg).with_endpoint(endpoint).build()
    return make


@pytest.fixture
def client(make_client):
    return make_client()


def task(states, **params):
    return require(states.setup(SERVICE, "migration task exists", **params), "task_id")


def delete(client, task_id):
    return client.delete_task(DeleteTaskRequest(task_id=task_id))


def assert_client_error(exc_info, status=None):
    e = exc_info.value
    assert type(e) is ClientRequestException, f"{type(e).__name__}: {e}"
    if status is not None:
        assert e.status_code == status, str(e)
    else:
        assert 400 <= e.status_code < 500, str(e)
    assert_request_id(e.request_id)
    assert isinstance(e.error_msg, str) and e.error_msg.strip(), str(e)
    return e


@pytest.mark.parametrize("connected, source_state",
                         [(True, s) for s in NOT_BLOCKING] + [(False, s) for s in BLOCKING])
def test_delete_task(states, client, connected, source_state):
    tid = task(states, source_state=source_state, agent_connected=connected)
    resp = delete(client, tid)
    assert resp.status_code == 200
    assert not states.probe("migration_task", tid)


def test_delete_task_with_longest_id(states, client):
    tid = task(states, source_state="stopped", agent_connected=False, id_length=36)
    assert len(tid) == 36
    assert delete(client, tid).status_code == 200
    assert not states.probe("migration_task", tid)


@pytest.mark.parametrize("source_state", BLOCKING)
def test_connected_task_in_busy_state_is_refused(states, client, source_state):
    tid = task(states, source_state=source_state, agent_connected=True)
    with pytest.raises(ClientRequestException) as ei:
        delete(client, tid)
    e = assert_client_error(ei)
    # The seed does not name this error's code: only its shape is checked.
    assert_huawei_code_shape(e.error_code)
    assert states.probe("migration_task", tid)


def test_caller_without_permission(states, make_client):
    tid = task(states, source_state="stopped", agent_connected=False)
    ak, sk, security_token = credentials_of(states.setup(SERVICE, "caller lacks permission"),
                                            token_keys=("security_token",))
    with pytest.raises(ClientRequestException) as ei:
        delete(make_client(ak, sk, security_token), tid)
    e = assert_client_error(ei, 403)
    assert e.error_code == "SMS.9004", str(e)
    assert states.probe("migration_task", tid)


def test_wrong_secret_key(states, make_client):
    tid = task(states, source_state="stopped", agent_connected=False)
    with pytest.raises(ClientRequestException) as ei:
        delete(make_client(sk="not-the-" + HUAWEI_SK), tid)
    e = assert_client_error(ei, 401)
    assert e.error_code == "APIGW.0301", str(e)
    assert states.probe("migration_task", tid)


def test_unknown_access_key(states, make_client):
    tid = task(states, source_state="stopped", agent_connected=False)
    with pytest.raises(ClientRequestException) as ei:
        delete(make_client(ak="CONFORMUNKNOWNAK0000"), tid)
    e = assert_client_error(ei, 401)
    assert e.error_code == "APIGW.0301", str(e)
    assert states.probe("migration_task", tid)


def test_delete_task_twice(states, client):
    tid = task(states, source_state="stopped", agent_connected=True)
    assert delete(client, tid).status_code == 200
    # The answer for a task that is gone is not documented: a clean 4xx the SDK can read.
    with pytest.raises(ClientRequestException) as ei:
        delete(client, tid)
    assert_huawei_code_shape(assert_client_error(ei).error_code)


@pytest.mark.parametrize("odd_id", ["a b", "a/b", "\u00fc", "a%2Fb"])
def test_task_ids_with_reserved_characters_are_signed_and_verified(states, client, odd_id):
    """No such task: the answer must be about the task (a 4xx), not a 401 caused by how the emulator
    builds the canonical URI. The SDK sends `a/b` as `/v3/tasks/a%2Fb` but signs the canonical URI
    `/v3/tasks/a/b/` (it un-escapes the whole path, splits on `/`, re-encodes each segment)."""
    with pytest.raises(ClientRequestException) as ei:
        delete(client, odd_id)
    e = assert_client_error(ei)
    assert e.status_code != 401, str(e)
