"""Inline rubric dicts converted once (rewardd._rubric_bytes): the same
Rubric as a fresh conversion, a changed dict is converted again, and bad
rubrics still fail naming the field."""

import pytest
from google.protobuf import json_format

from rewardd import Group, Request
from rewardd._rubric_bytes import rubric_bytes
from rewardd._stubs import reward_pb2


def _rubric(text="Mentions Paris."):
    return {"id": "cap", "prompt": "Capital of France?",
            "criteria": [{"id": "paris", "text": text, "weight": 2,
                          "check": {"kind": "CONTAINS", "values": ["Paris"]}},
                         {"id": "short", "text": "Is short.", "weight": 1}]}


def test_cached_conversion_equals_a_fresh_one():
    want = json_format.ParseDict(_rubric(), reward_pb2.Rubric())
    for _ in range(2):  # the second time from the cache
        assert reward_pb2.Rubric.FromString(rubric_bytes(_rubric())) == want
        assert Group(["a", "b"], rubric=_rubric()).to_proto().rubric == want
        assert Request("a", rubric=_rubric()).to_proto().rubric == want


def test_a_dict_changed_after_a_call_is_converted_again():
    rubric = _rubric()
    assert Group(["a"], rubric=rubric).to_proto().rubric.criteria[0].text == "Mentions Paris."
    rubric["criteria"][0]["text"] = "Names Paris."
    assert Group(["a"], rubric=rubric).to_proto().rubric.criteria[0].text == "Names Paris."


@pytest.mark.parametrize("bad, field", [
    ({"id": "x", "criteria": [{"id": "c", "wieght": 1}]}, "wieght"),
    ({"id": "x", "criteria": [{"id": "c", "weight": "heavy"}]}, "weight"),
    ({"id": "x", "criteria": [{"id": "c", "tags": {1, 2}}]}, "tags"),  # not JSON data
])
def test_bad_rubrics_fail_naming_the_field_every_time(bad, field):
    for _ in range(2):
        with pytest.raises(ValueError) as e:
            Group(["a"], rubric=bad).to_proto()
        assert str(e.value).startswith("rubric: ") and field in str(e.value)
