"""GradeResult's criteria: made from the proto on first use, yet a tuple to users."""

import copy
import dataclasses
import pickle

from rewardd._stubs import reward_pb2
from rewardd.results import CriterionVerdict, GradeResult, GroupResult


def _response(request_id="r1"):
    r = reward_pb2.GradeResponse(request_id=request_id, reward=0.5, valid=True)
    r.criteria.add(id="c1", weight=2, verdict=reward_pb2.CriterionResult.MET,
                   status=reward_pb2.CriterionResult.OK, probability=0.9)
    r.criteria.add(id="c2", weight=2, verdict=reward_pb2.CriterionResult.UNKNOWN,
                   status=reward_pb2.CriterionResult.TIMEOUT)
    return r


def test_criteria_read_like_the_tuple_of_verdicts():
    result = GradeResult.from_proto(_response())
    assert len(result.criteria) == 2
    assert [c.id for c in result.criteria] == ["c1", "c2"]
    assert result.criteria[0] == CriterionVerdict(id="c1", weight=2, verdict="MET", status="OK",
                                                  probability=0.9)
    assert result.criteria[-1].status == "TIMEOUT" and result.criteria[-1].met is None
    assert result.criteria == tuple(result.criteria)
    assert result.verdicts == {"c1": True, "c2": None}
    assert result.met_count == 1 and result.failed_criteria == ["c2"]


def test_results_from_equal_protos_are_equal_and_hash_alike():
    a, b = GradeResult.from_proto(_response()), GradeResult.from_proto(_response())
    assert a == b and hash(a) == hash(b)
    assert a != GradeResult.from_proto(_response("other"))


def test_pickle_and_deepcopy_give_plain_tuples():
    result = GradeResult.from_proto(_response())
    back = pickle.loads(pickle.dumps(result))
    assert back == result and isinstance(back.criteria, tuple)
    assert isinstance(copy.deepcopy(result).criteria, tuple)
    # asdict copies the verdicts as values (not dicts): documented in results.py.
    assert dataclasses.asdict(result)["criteria"][0].id == "c1"


def test_result_outlives_and_ignores_later_changes_of_its_proto_once_read():
    proto = _response()
    result = GradeResult.from_proto(proto)
    assert result.criteria[0].verdict == "MET"
    proto.criteria[0].verdict = reward_pb2.CriterionResult.UNMET
    assert result.criteria[0].verdict == "MET"


def test_group_results_keep_request_order():
    g = reward_pb2.GradeGroupResponse(request_id="g")
    for i in range(3):
        g.results.append(_response("r%d" % i))
    group = GroupResult.from_proto(g)
    assert [r.request_id for r in group.results] == ["r0", "r1", "r2"]
    assert all(len(r.criteria) == 2 for r in group.results)


def test_converted_result_has_every_field_of_a_constructed_one():
    r = GradeResult.from_proto(_response())
    fields = {f.name for f in dataclasses.fields(GradeResult)}
    assert set(vars(r)) == fields
    built = GradeResult(**{name: getattr(r, name) for name in fields})
    assert built == r and repr(built) == repr(r)
    assert dataclasses.replace(r, reward=1.0).reward == 1.0
