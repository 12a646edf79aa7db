import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2

from copnet.kernel.errors import AlreadyExists, InvalidArgument, to_rpc_status
from copnet.kernel.pagination import MAX_PAGE_SIZE, decode_token, encode_token, page_size


def test_field_error_carries_error_info_and_bad_request():
    status = to_rpc_status(InvalidArgument.for_field("parent_id", "no organization 'x'", reason="UNKNOWN_PARENT"))
    assert status.code == code_pb2.INVALID_ARGUMENT
    info, bad_request = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    assert status.details[0].Unpack(info) and status.details[1].Unpack(bad_request)
    assert info.reason == "UNKNOWN_PARENT" and info.domain == "copnet"
    assert [(v.field, v.description) for v in bad_request.field_violations] == [("parent_id", "no organization 'x'")]


def test_each_domain_error_has_its_grpc_code():
    assert AlreadyExists("x").code == grpc.StatusCode.ALREADY_EXISTS
    assert to_rpc_status(AlreadyExists("x", metadata={"field": "id"})).code == code_pb2.ALREADY_EXISTS


def test_page_size_defaults_and_caps():
    assert page_size(0) == 50
    assert page_size(5000) == MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument):
        page_size(-1)


def test_page_token_round_trips_for_the_same_query_only():
    token = encode_token("abc", {"kind": "school"})
    assert decode_token(token, {"kind": "school"}) == "abc"
    with pytest.raises(InvalidArgument, match="different query"):
        decode_token(token, {"kind": "district"})
    with pytest.raises(InvalidArgument, match="page_token"):
        decode_token("garbage!!", {})
    assert decode_token("", {}) is None
