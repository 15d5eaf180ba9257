"""The legacy Alibaba Cloud SDK (aliyun-python-sdk-smc + aliyun-python-sdk-core) against the emulator.

It signs RPC V1 with Format=JSON, RegionId and an empty SignatureType; request classes send POST with the
parameters in the query string (GET is exercised too: older clients send it). Every non-2xx answer
surfaces as aliyunsdkcore's ServerException, whose code, message and request id come from the JSON body.
"""
import json

import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.auth.credentials import AccessKeyCredential, StsTokenCredential
from aliyunsdkcore.client import AcsClient
from aliyunsdksmc.request.v20190601.DeleteReplicationJobRequest import DeleteReplicationJobRequest
from aliyunsdksmc.request.v20190601.DeleteSourceServerRequest import DeleteSourceServerRequest

from conftest import (ALIBABA_AK, ALIBABA_SECRET, CONNECT_TIMEOUT_S, READ_TIMEOUT_S, REGION,
                      assert_request_id, credentials_of, require)

SERVICE = "alibaba-smc"
MSG = {
    "SourceServerState.Invalid": "The specified source server status is invalid.",
    "SourceServer.WithRunningReplicationJob": "The specified source server has related replication jobs that are running.",
    "ReplicationJob.Related": "The specified source server has related replication jobs.",
    "ReplicationJob.InvalidStatus": "The specified replication job status is invalid.",
    "InternalError": "An error occurred while processing your request. Please try again. If the problem still exists, please submit a ticket.",
}
SOURCE_STATE_REFUSED = "Deleting"
JOB_STATUS_REFUSED = "Running"


@pytest.fixture
def make_client():
    def make(ak=ALIBABA_AK, secret=ALIBABA_SECRET, token=None):
        cred = StsTokenCredential(ak, secret, token) if token else AccessKeyCredential(ak, secret)
        return AcsClient(region_id=REGION, credential=cred,
                         connect_timeout=CONNECT_TIMEOUT_S, timeout=READ_TIMEOUT_S)
    return make


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture(params=["POST", "GET"])
def method(request):
    return request.param


def setup(states, name, /, **params):
    return states.setup(SERVICE, name, **params)


def source_request(hostport, source_id=None, force=None, method=None):
    r = DeleteSourceServerRequest()
    r.set_endpoint(hostport)
    r.set_protocol_type("http")
    if source_id is not None:
        r.set_SourceId(source_id)
    if force is not None:
        r.set_Force(force)
    if method:
        r.set_method(method)
    return r


def job_request(hostport, job_id=None, method=None):
    r = DeleteReplicationJobRequest()
    r.set_endpoint(hostport)
    r.set_protocol_type("http")
    if job_id is not None:
        r.set_JobId(job_id)
    if method:
        r.set_method(method)
    return r


def assert_ok(body):
    # do_action_with_exception asks for Format=JSON and returns the raw body.
    doc = json.loads(body)
    assert isinstance(doc, dict), body
    assert_request_id(doc.get("RequestId"))


def assert_error(exc_info, status, code, message=None):
    e = exc_info.value
    assert type(e) is ServerException, f"{type(e).__name__}: {e}"
    assert e.get_http_status() == status, str(e)
    assert e.get_error_code() == code, str(e)
    assert_request_id(e.get_request_id())
    expected = message if message is not None else MSG.get(code)
    if expected is not None:
        assert e.get_error_msg() == expected, str(e)
    return e


# ------------------------------------------------------------------ DeleteSourceServer
@pytest.mark.parametrize("force", [None, True])
def test_delete_source_server_without_job(states, client, hostport, method, force):
    sid = require(setup(states, "source server exists", state="Available"), "SourceId")
    assert_ok(client.do_action_with_exception(source_request(hostport, sid, force, method)))
    assert not states.probe("source_server", sid)


def test_delete_source_server_refused_by_its_state(states, client, hostport, method):
    sid = require(setup(states, "source server exists", state=SOURCE_STATE_REFUSED), "SourceId")
    with pytest.raises(ServerException) as ei:
        client.do_action_with_exception(source_request(hostport, sid, method=method))
    assert_error(ei, 400, "SourceServerState.Invalid")
    assert states.probe("source_server", sid)


@pytest.mark.parametrize("force", [None, False, True])
def test_delete_source_server_with_running_job(states, client, hostport, force):
    sid, jid = require(setup(states, "source server has replication job", job_status="Running"), "SourceId", "JobId")
    with pytest.raises(ServerException) as ei:
        client.do_action_with_exception(source_request(hostport, sid, force))
    assert_error(ei, 400, "SourceServer.WithRunningReplicationJob")
    assert states.probe("source_server", sid)
    assert states.probe("replication_job", jid)


@pytest.mark.parametrize("force", [None, False])
def test_delete_source_server_with_job_needs_force(states, client, hostport, method, force):
    sid, jid = require(setup(states, "source server has replication job", job_status="Stopped"), "SourceId", "JobId")
    with pytest.raises(ServerException) as ei:
        client.do_action_with_exception(source_request(hostport, sid, force, method))
    assert_error(ei, 400, "ReplicationJob.Related")
    assert states.probe("replication_job", jid)


def test_forced_delete_removes_source_job_and_intermediate_instance(states, client, hostport, method):
    values = setup(states, "source server has replication job", job_status="Stopped")
    sid, jid, iid = require(values, "SourceId", "JobId", "IntermediateInstanceId")
    assert_ok(client.do_action_with_exception(source_request(hostport, sid, True, method)))
    assert not states.probe("source_server", sid)
    assert not states.probe("replication_job", jid)
    assert not states.probe("intermediate_instance", iid)


def test_delete_source_server_internal_error(states, client, hostport):
    sid = require(setup(states, "service fails", status=500), "SourceId")
    with pytest.raises(ServerException) as ei:
        client.do_action_with_exception(source_request(hostport, sid))
    assert_error(ei, 500, "InternalError")


def test_delete_source_server_missing_source_id(states, client, hostport):
    with pytest.raises(ServerException) as ei:
        client.do_action_with_exception(source_request(hostport))
    assert_error(ei, 400, "MissingParameter",
                 'The input parameter "SourceId" that is mandatory for processing this request is not supplied.')


# ------------------------------------------------------------------ DeleteReplicationJob
def test_delete_replication_job(states, client, hostport, method):
    jid, iid = require(setup(states, "replication job exists", status="Finished"), "JobId", "IntermediateInstanceId")
    assert_ok(client.do_action_with_exception(job_request(hostport, jid, method)))
    assert not states.probe("replication_job", jid)
    assert not states.probe("intermediate_instance", iid)


def test_delete_replication_job_invalid_status(states, client, hostport):
    jid = require(setup(states, "replication job exists", status=JOB_STATUS_REFUSED), "JobId")
    with pytest.raises(ServerException) as ei:
        client.do_action_with_exception(job_request(hostport, jid))
    assert_error(ei, 400, "ReplicationJob.InvalidStatus")
    assert states.probe("replication_job", jid)


def test_delete_replication_job_internal_error(states, client, hostport):
    jid = require(setup(states, "service fails", status=500), "JobId")
    with pytest.raises(ServerException) as ei:
        client.do_action_with_exception(job_request(hostport, jid))
    assert_error(ei, 500, "InternalError")


def test_delete_replication_job_missing_job_id(states, client, hostport):
    with pytest.raises(ServerException) as ei:
        client.do_action_with_exception(job_request(hostport))
    assert_error(ei, 400, "MissingParameter",
                 'The input parameter "JobId" that is mandatory for processing this request is not supplied.')


# ------------------------------------------------------------------ authentication and authorisation
def test_wrong_secret(states, make_client, hostport, method):
    """SignatureDoesNotMatch must not crash the SDK (it splits the message on ':'). When the text after
    the colon is exactly the SDK's own string to sign, the SDK itself rewrites the error to
    InvalidAccessKeySecret: that is what a faithful emulator produces."""
    sid = require(setup(states, "source server exists", state="Available"), "SourceId")
    client = make_client(secret="not-the-" + ALIBABA_SECRET)
    with pytest.raises(ServerException) as ei:
        client.do_action_with_exception(source_request(hostport, sid, method=method))
    assert_error(ei, 400, "InvalidAccessKeySecret",
                 "The AccessKeySecret is incorrect. Please check your AccessKeyId and AccessKeySecret.")
    assert states.probe("source_server", sid)


def test_unknown_access_key(states, make_client, hostport):
    sid = require(setup(states, "source server exists", state="Available"), "SourceId")
    with pytest.raises(ServerException) as ei:
        make_client(ak="conform-unknown-ak").do_action_with_exception(source_request(hostport, sid))
    assert_error(ei, 404, "InvalidAccessKeyId.NotFound")
    assert states.probe("source_server", sid)


def test_caller_without_permission(states, make_client, hostport):
    jid = require(setup(states, "replication job exists", status="Stopped"), "JobId")
    ak, secret, token = credentials_of(setup(states, "caller lacks permission"))
    with pytest.raises(ServerException) as ei:
        make_client(ak, secret, token).do_action_with_exception(job_request(hostport, jid))
    assert_error(ei, 403, "Forbidden.RAM")
    assert states.probe("replication_job", jid)


# ------------------------------------------------------------------ what the SDK encodes and signs
def test_optional_parameters_are_accepted(states, client, hostport, method):
    sid = require(setup(states, "source server exists", state="Available"), "SourceId")
    r = source_request(hostport, sid, False, method)
    r.set_OwnerId(1234567890123456)
    r.set_ResourceOwnerAccount("owner account")
    assert_ok(client.do_action_with_exception(r))
    assert not states.probe("source_server", sid)


@pytest.mark.parametrize("odd_id", ["a b", "a/b*c~d", "\u00fc+&=", "x'(!)"])
def test_ids_with_reserved_characters_are_signed_and_verified(states, client, hostport, method, odd_id):
    for r in (source_request(hostport, odd_id, method=method), job_request(hostport, odd_id, method)):
        with pytest.raises(ServerException) as ei:
            client.do_action_with_exception(r)
        e = ei.value
        assert e.get_error_code() not in ("SignatureDoesNotMatch", "InvalidAccessKeySecret"), str(e)
        assert 400 <= e.get_http_status() < 500, str(e)
        assert_request_id(e.get_request_id())
