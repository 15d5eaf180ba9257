"""The current Alibaba Cloud SDK (alibabacloud_smc20190601, Tea/darabonba) against the emulator.

Every test runs twice: with the SDK's default signing (V3, ACS3-HMAC-SHA256, action in x-acs-action)
and with `Config(signature_algorithm='v2')` (RPC signature V1, HMAC-SHA1, Action/Format=json in the query).
"""
import pytest
from alibabacloud_smc20190601 import models as smc
from alibabacloud_smc20190601.client import Client
from alibabacloud_tea_openapi import models as openapi
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException

from conftest import (ALIBABA_AK, ALIBABA_SECRET, CONNECT_TIMEOUT_S, READ_TIMEOUT_S, REGION,
                      assert_request_id, credentials_of, require)

SERVICE = "alibaba-smc"

# Documented messages (seeds 000 and 001, "Error codes").
MSG = {
    "SourceServerState.Invalid": "The specified source server status is invalid.",
    "SourceServer.WithRunningReplicationJob": "The specified source server has related replication jobs that are running.",
    "ReplicationJob.Related": "The specified source server has related replication jobs.",
    "ReplicationJob.InvalidStatus": "The specified replication job status is invalid.",
    "InternalError": "An error occurred while processing your request. Please try again. If the problem still exists, please submit a ticket.",
}
NOT_RUNNING = ["Ready", "Stopped", "InError", "Finished", "Waiting", "Expired"]
# Which source states refuse deletion and which job statuses refuse DeleteReplicationJob is not
# documented; these are the states the conform specs assign to those errors.
SOURCE_STATE_REFUSED = "Deleting"
JOB_STATUS_REFUSED = "Running"


@pytest.fixture(params=["v3", "v1"])
def signing(request):
    return request.param


@pytest.fixture
def make_client(hostport, signing):
    def make(ak=ALIBABA_AK, secret=ALIBABA_SECRET, token=None):
        cfg = openapi.Config(access_key_id=ak, access_key_secret=secret, security_token=token,
                             endpoint=hostport, protocol="http", region_id=REGION,
                             connect_timeout=CONNECT_TIMEOUT_S * 1000, read_timeout=READ_TIMEOUT_S * 1000)
        if signing == "v1":
            cfg.signature_algorithm = "v2"
        return Client(cfg)
    return make


@pytest.fixture
def client(make_client):
    return make_client()


def setup(states, name, /, **params):
    return states.setup(SERVICE, name, **params)


def assert_ok(resp):
    assert resp.status_code == 200
    assert_request_id(resp.body.request_id)


def assert_error(exc_info, cls, status, code):
    e = exc_info.value
    assert type(e) is cls, f"{type(e).__name__}: {e}"
    assert e.status_code == status, str(e)
    assert e.code == code, str(e)
    assert_request_id(e.request_id)
    # The SDK builds its message as "code: <status>, <Message> request id: <RequestId>".
    assert e.message.startswith(f"code: {status}, "), e.message
    assert e.message.endswith(f" request id: {e.request_id}"), e.message
    if code in MSG:
        assert e.data["Message"] == MSG[code], e.data
    return e


def delete_source(client, source_id, force=None):
    return client.delete_source_server(smc.DeleteSourceServerRequest(source_id=source_id, force=force))


def delete_job(client, job_id):
    return client.delete_replication_job(smc.DeleteReplicationJobRequest(job_id=job_id))


# ------------------------------------------------------------------ DeleteSourceServer
@pytest.mark.parametrize("force", [None, False, True])
def test_delete_source_server_without_job(states, client, force):
    sid = require(setup(states, "source server exists", state="Available"), "SourceId")
    assert_ok(delete_source(client, sid, force))
    assert not states.probe("source_server", sid)


def test_delete_source_server_refused_by_its_state(states, client):
    sid = require(setup(states, "source server exists", state=SOURCE_STATE_REFUSED), "SourceId")
    with pytest.raises(ClientException) as ei:
        delete_source(client, sid)
    assert_error(ei, ClientException, 400, "SourceServerState.Invalid")
    assert states.probe("source_server", sid)


@pytest.mark.parametrize("force", [None, False, True])
def test_delete_source_server_with_running_job(states, client, force):
    sid, jid = require(setup(states, "source server has replication job", job_status="Running"), "SourceId", "JobId")
    with pytest.raises(ClientException) as ei:
        delete_source(client, sid, force)
    assert_error(ei, ClientException, 400, "SourceServer.WithRunningReplicationJob")
    assert states.probe("source_server", sid)
    assert states.probe("replication_job", jid)


@pytest.mark.parametrize("force", [None, False])
@pytest.mark.parametrize("job_status", ["Stopped", "Ready"])
def test_delete_source_server_with_job_needs_force(states, client, force, job_status):
    sid, jid = require(setup(states, "source server has replication job", job_status=job_status), "SourceId", "JobId")
    with pytest.raises(ClientException) as ei:
        delete_source(client, sid, force)
    assert_error(ei, ClientException, 400, "ReplicationJob.Related")
    assert states.probe("source_server", sid)
    assert states.probe("replication_job", jid)


@pytest.mark.parametrize("job_status", NOT_RUNNING)
def test_forced_delete_removes_source_job_and_intermediate_instance(states, client, job_status):
    values = setup(states, "source server has replication job", job_status=job_status)
    sid, jid, iid = require(values, "SourceId", "JobId", "IntermediateInstanceId")
    assert states.probe("intermediate_instance", iid)
    assert_ok(delete_source(client, sid, force=True))
    assert not states.probe("source_server", sid)
    assert not states.probe("replication_job", jid)
    assert not states.probe("intermediate_instance", iid)


def test_delete_source_server_internal_error(states, client):
    sid = require(setup(states, "service fails", status=500), "SourceId")
    with pytest.raises(ServerException) as ei:
        delete_source(client, sid)
    assert_error(ei, ServerException, 500, "InternalError")


def test_delete_source_server_missing_source_id(states, client):
    # The SDK does not check required parameters: it sends the request without SourceId.
    with pytest.raises(ClientException) as ei:
        client.delete_source_server(smc.DeleteSourceServerRequest())
    e = assert_error(ei, ClientException, 400, "MissingParameter")
    assert e.data["Message"] == \
        'The input parameter "SourceId" that is mandatory for processing this request is not supplied.'


def test_delete_source_server_twice(states, client):
    sid = require(setup(states, "source server exists", state="Available"), "SourceId")
    assert_ok(delete_source(client, sid))
    # What a second delete answers is not documented; it must be a clean, SDK-readable 4xx refusal.
    with pytest.raises(ClientException) as ei:
        delete_source(client, sid)
    e = ei.value
    assert 400 <= e.status_code < 500 and e.code not in ("", "None"), str(e)
    assert_request_id(e.request_id)


# ------------------------------------------------------------------ DeleteReplicationJob
@pytest.mark.parametrize("status", ["Stopped", "Ready", "InError", "Finished"])
def test_delete_replication_job(states, client, status):
    jid, iid = require(setup(states, "replication job exists", status=status), "JobId", "IntermediateInstanceId")
    assert_ok(delete_job(client, jid))
    assert not states.probe("replication_job", jid)
    assert not states.probe("intermediate_instance", iid)


def test_delete_replication_job_invalid_status(states, client):
    jid, iid = require(setup(states, "replication job exists", status=JOB_STATUS_REFUSED), "JobId", "IntermediateInstanceId")
    with pytest.raises(ClientException) as ei:
        delete_job(client, jid)
    assert_error(ei, ClientException, 400, "ReplicationJob.InvalidStatus")
    assert states.probe("replication_job", jid)
    assert states.probe("intermediate_instance", iid)


def test_delete_replication_job_internal_error(states, client):
    jid = require(setup(states, "service fails", status=500), "JobId")
    with pytest.raises(ServerException) as ei:
        delete_job(client, jid)
    assert_error(ei, ServerException, 500, "InternalError")


def test_delete_replication_job_missing_job_id(states, client):
    with pytest.raises(ClientException) as ei:
        client.delete_replication_job(smc.DeleteReplicationJobRequest())
    e = assert_error(ei, ClientException, 400, "MissingParameter")
    assert e.data["Message"] == \
        'The input parameter "JobId" that is mandatory for processing this request is not supplied.'


# ------------------------------------------------------------------ authentication and authorisation
@pytest.mark.parametrize("operation", ["DeleteSourceServer", "DeleteReplicationJob"])
def test_wrong_secret_is_signature_mismatch(states, make_client, operation):
    values = setup(states, "replication job exists", status="Stopped")
    client = make_client(secret="not-the-" + ALIBABA_SECRET)
    with pytest.raises(ClientException) as ei:
        if operation == "DeleteSourceServer":
            delete_source(client, values["SourceId"])
        else:
            delete_job(client, values["JobId"])
    e = assert_error(ei, ClientException, 400, "SignatureDoesNotMatch")
    assert e.data["Message"].startswith(
        "Specified signature is not matched with our calculation. server string to sign is:"), e.data
    assert states.probe("replication_job", values["JobId"])


def test_unknown_access_key(states, make_client):
    sid = require(setup(states, "source server exists", state="Available"), "SourceId")
    with pytest.raises(ClientException) as ei:
        delete_source(make_client(ak="conform-unknown-ak"), sid)
    assert_error(ei, ClientException, 404, "InvalidAccessKeyId.NotFound")
    assert states.probe("source_server", sid)


def test_caller_without_permission(states, make_client):
    sid = require(setup(states, "source server exists", state="Available"), "SourceId")
    ak, secret, token = credentials_of(setup(states, "caller lacks permission"))
    with pytest.raises(ClientException) as ei:
        delete_source(make_client(ak=ak, secret=secret, token=token), sid)
    assert_error(ei, ClientException, 403, "Forbidden.RAM")
    assert states.probe("source_server", sid)


# ------------------------------------------------------------------ what the SDK encodes and signs
def test_optional_parameters_are_accepted(states, client):
    sid = require(setup(states, "source server exists", state="Available"), "SourceId")
    resp = client.delete_source_server(smc.DeleteSourceServerRequest(
        source_id=sid, force=False, owner_id=1234567890123456, resource_owner_account="owner account"))
    assert_ok(resp)
    assert not states.probe("source_server", sid)


@pytest.mark.parametrize("odd_id", ["a b", "a/b*c~d", "\u00fc+&=", "x'(!)"])
def test_ids_with_reserved_characters_are_signed_and_verified(states, client, odd_id):
    # No such source or job: the answer must be about the id (a 4xx the SDK reads), never a signature
    # mismatch caused by how the emulator re-encodes the query.
    for call in (lambda: delete_source(client, odd_id), lambda: delete_job(client, odd_id)):
        with pytest.raises(ClientException) as ei:
            call()
        e = ei.value
        assert e.code != "SignatureDoesNotMatch" and 400 <= e.status_code < 500, str(e)
        assert_request_id(e.request_id)
