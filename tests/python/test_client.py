"""RewardClient (blocking) against a real rewardd: every call, every error
code rewardd returns, deadlines, request shapes, pickling."""

import math
import pickle

import grpc
import pytest

import rewardd
from rewardd import ClientOptions, GradeOptions, Request, RewardClient, RewardError
from conftest import closed_port

GOOD = "Average speed is distance divided by time: 120 km / 1.5 h = 80 km/h.\nAnswer: 80"
WRONG = "The train is fast. 120 times 1.5 is 180.\nAnswer: 180"
HAIKU_PROMPT = "Write a haiku about autumn rain."
JSON_MESSAGES = [
    {"role": "system", "content": "You reply with JSON only."},
    {"role": "user", "content": "Give a JSON object with the keys name and age for a 30-year-old called Ada."},
]
INLINE = {"id": "capital", "criteria": [
    {"id": "paris", "text": "Names Paris", "weight": 3,
     "check": {"kind": "CONTAINS", "values": ["paris"], "case_insensitive": True}},
    {"id": "brief", "text": "At most 10 words", "weight": 1, "check": {"kind": "WORD_COUNT", "max": 10}}]}


@pytest.fixture
def client(server):
    c = RewardClient(server.address, deadline=30, max_attempts=1)
    yield c
    c.close()


def test_grade_by_id_returns_reward_and_per_criterion_verdicts(client):
    r = client.grade(GOOD, rubric_set="demo", rubric_id="arith-1", request_id="good",
                     options=GradeOptions(include_explanations=True), labels={"policy_version": "t"})
    assert r.valid and r.invalid_reason == ""
    assert r.request_id == "good"
    assert (r.rubric_set, r.rubric_id, r.judge) == ("demo", "arith-1", "embedded")
    assert len(r.rubric_version) == 16
    assert [c.id for c in r.criteria] == ["answer", "format", "work", "short"]
    assert r.verdicts["answer"] is True and r.verdicts["format"] is True
    answer = r.criteria[0]
    assert (answer.verdict, answer.status, answer.weight, answer.probability) == ("MET", "OK", 3.0, 1.0)
    assert answer.explanation  # asked for
    assert r.reward == pytest.approx(r.score / r.max_score)
    wrong = client.grade(WRONG, rubric_set="demo", rubric_id="arith-1")
    assert wrong.valid and wrong.verdicts["answer"] is False and wrong.reward < r.reward


def test_grade_by_prompt_text_and_by_chat_messages(client):
    haiku = client.grade("Autumn rain at dusk\nred leaves drown in the puddles\nthe window weeps too",
                         rubric_set="demo", prompt=HAIKU_PROMPT)
    assert haiku.valid and haiku.rubric_id == "haiku"
    js = client.grade('{"name": "Ada", "age": 30}', rubric_set="demo", prompt=JSON_MESSAGES)
    assert js.valid and js.rubric_id == "json-profile" and js.verdicts["json"] is True
    # OpenAI-style content parts are joined into the message text.
    parts = [dict(m, content=[{"type": "text", "text": m["content"]}]) for m in JSON_MESSAGES]
    assert client.grade("{}", rubric_set="demo", prompt=parts).rubric_id == "json-profile"


def test_grade_inline_rubric_and_formula(client):
    r = client.grade("Paris.", rubric=INLINE, prompt="What is the capital of France?")
    assert r.valid and r.reward == 1.0 and r.verdicts == {"paris": True, "brief": True}
    r = client.grade("Lyon, I think, but I am really not at all sure about this one.", rubric=INLINE,
                     options={"formula": "RAW_SUM"})
    assert r.reward == 0.0 and r.verdicts == {"paris": False, "brief": False}


def test_grade_group_in_order_with_mean_and_std(client):
    g = client.grade_group([GOOD, WRONG, GOOD], rubric_set="demo", rubric_id="arith-1",
                           request_id="g1")
    assert [r.request_id for r in g.results] == ["g1/0", "g1/1", "g1/2"]
    rewards = [r.reward for r in g.results]
    assert rewards[0] == rewards[2] > rewards[1]
    assert g.valid_count == 3
    assert g.mean_reward == pytest.approx(sum(rewards) / 3)
    mean = g.mean_reward
    assert g.std_reward == pytest.approx(math.sqrt(sum((x - mean) ** 2 for x in rewards) / 3))


def test_grade_many_keeps_order_and_bounds_concurrency(client):
    reqs = [Request(GOOD if i % 2 == 0 else WRONG, rubric_set="demo", rubric_id="arith-1",
                    request_id="m%d" % i) for i in range(40)]
    results = client.grade_many(reqs, concurrency=4)
    assert [r.request_id for r in results] == ["m%d" % i for i in range(40)]
    assert len({r.reward for r in results[0::2]}) == 1 and results[0].reward > results[1].reward
    # dicts of Request's fields work too, and errors can stay in place.
    mixed = client.grade_many([{"response": GOOD, "rubric_set": "demo", "rubric_id": "arith-1"},
                               {"response": GOOD, "rubric_set": "demo", "rubric_id": "nope"}],
                              return_exceptions=True)
    assert mixed[0].valid and isinstance(mixed[1], RewardError)
    assert mixed[1].code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(RewardError):
        client.grade_many([{"response": GOOD, "rubric_set": "nope"}])
    with pytest.raises(ValueError, match="concurrency"):
        client.grade_many(reqs, concurrency=0)


def test_grade_groups(client):
    out = client.grade_groups([rewardd.Group([GOOD], rubric_set="demo", rubric_id="arith-1"),
                               {"responses": [WRONG, GOOD], "rubric_set": "demo", "rubric_id": "arith-1"}])
    assert [len(g.results) for g in out] == [1, 2]


def test_list_rubric_sets_and_get_rubric(client):
    sets = {s.name: s for s in client.list_rubric_sets()}
    assert {"demo", "healthbench_sample", "chasing_the_tail"} <= set(sets)
    demo = sets["demo"]
    assert demo.format == "rewardd" and demo.rubric_count == 3 and len(demo.version) == 16
    rubric = client.get_rubric("demo", "arith-1")
    assert rubric.id == "arith-1" and rubric.rubric_set == "demo"
    assert rubric.set_version == demo.version
    assert [c.id for c in rubric.criteria][:2] == ["answer", "format"]
    assert rubric.criteria[0].check["kind"] == "NUMERIC"
    assert rubric.criteria[2].check == {}


def test_health(client):
    assert client.health() == "SERVING"
    assert client.health("reward.v1.RewardService") == "SERVING"
    with pytest.raises(RewardError) as e:
        client.health("no.such.Service")
    assert e.value.code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("kwargs,code,needle", [
    (dict(rubric_set="no_such_set", rubric_id="x"), grpc.StatusCode.NOT_FOUND, "no_such_set"),
    (dict(rubric_set="demo", rubric_id="no-such-id"), grpc.StatusCode.NOT_FOUND, "no-such-id"),
    (dict(rubric_set="demo", prompt="a prompt no rubric has"), grpc.StatusCode.NOT_FOUND, ""),
    (dict(rubric={"criteria": []}), grpc.StatusCode.INVALID_ARGUMENT, ""),
    (dict(rubric_set="demo", rubric_id="arith-1", options={"judge": "no-such-judge"}),
     grpc.StatusCode.INVALID_ARGUMENT, "no-such-judge"),
])
def test_server_errors_keep_code_and_message(client, kwargs, code, needle):
    with pytest.raises(RewardError) as e:
        client.grade(GOOD, **kwargs)
    assert e.value.code == code
    assert e.value.code_name == code.name and e.value.code_value == code.value[0]
    assert needle in e.value.message
    assert e.value.attempts == 1  # not retried
    assert code.name in str(e.value)
    # Picklable (process pools send exceptions back to the parent).
    again = pickle.loads(pickle.dumps(e.value))
    assert (again.code, again.message) == (e.value.code, e.value.message)


def test_limits_are_invalid_argument_and_resource_exhausted(start_rewardd):
    server = start_rewardd("--rubric_dir=" + __import__("conftest").RUBRICS,
                           "--max_response_bytes=1000", "--max_message_bytes=20000")
    c = RewardClient(server.address, max_attempts=1)
    with pytest.raises(RewardError) as e:
        c.grade("x" * 2000, rubric_set="demo", rubric_id="arith-1")
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "max_response_bytes" in e.value.message
    with pytest.raises(RewardError) as e:
        c.grade("x" * 50000, rubric_set="demo", rubric_id="arith-1")
    assert e.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_unavailable_is_retried_then_raised():
    c = RewardClient("127.0.0.1:%d" % closed_port(), max_attempts=3, initial_backoff=0.01,
                     max_backoff=0.02)
    with pytest.raises(RewardError) as e:
        c.grade(GOOD, rubric_set="demo", rubric_id="arith-1")
    assert e.value.code == grpc.StatusCode.UNAVAILABLE
    assert e.value.attempts == 3


def test_deadline_exceeded_is_raised_and_not_retried(silent_port):
    # A server that accepts the connection and never answers: whatever the
    # deadline, it passes first.
    c = RewardClient("127.0.0.1:%d" % silent_port, max_attempts=4)
    with pytest.raises(RewardError) as e:
        c.grade(GOOD, rubric_set="demo", rubric_id="arith-1", timeout=0.3)
    assert e.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert e.value.attempts == 1
    # The client's default deadline applies without a per-call timeout.
    short = RewardClient("127.0.0.1:%d" % silent_port, deadline=0.3)
    with pytest.raises(RewardError) as e:
        short.list_rubric_sets()
    assert e.value.code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_a_hung_judge_never_yields_a_reward(client):
    # rewardd answers shortly before the call's deadline: criteria whose
    # judge call did not finish are TIMEOUT and the result is invalid, not an
    # error. (On a machine slow enough to eat rewardd's margin the client's
    # deadline fires first: DEADLINE_EXCEEDED. Never a reward either way.)
    try:
        r = client.grade(GOOD, rubric_set="demo", rubric_id="arith-1", options={"judge": "hang"},
                         timeout=1.0)
    except RewardError as e:
        assert e.code == grpc.StatusCode.DEADLINE_EXCEEDED
        return
    assert not r.valid and r.reward == 0.0 and "TIMEOUT" in r.invalid_reason
    assert {c.status for c in r.criteria} == {"TIMEOUT"}


def test_wait_for_ready_waits_until_the_deadline():
    c = RewardClient("127.0.0.1:%d" % closed_port(), wait_for_ready=True, deadline=0.3)
    with pytest.raises(RewardError) as e:
        c.health()
    assert e.value.code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_invalid_result_is_a_result_not_an_error(client):
    r = client.grade(GOOD, rubric_set="demo", rubric_id="arith-1", options={"judge": "broken"})
    assert not r.valid and r.reward == 0.0
    assert r.invalid_reason
    assert {c.status for c in r.criteria} == {"JUDGE_ERROR"}
    assert all(c.met is None for c in r.criteria)
    assert r.failed_criteria == ["answer", "format", "work", "short"]


def test_bad_arguments_name_the_field(client):
    with pytest.raises(ValueError, match="rubric"):
        client.grade(GOOD, rubric=INLINE, rubric_set="demo")
    with pytest.raises(ValueError, match="formula"):
        client.grade(GOOD, rubric_set="demo", options=GradeOptions(formula="MEDIAN"))
    with pytest.raises(ValueError, match="options"):
        client.grade(GOOD, rubric_set="demo", options={"judg": "x"})
    with pytest.raises(ValueError, match="role"):
        client.grade(GOOD, rubric_set="demo", prompt=[{"content": "no role"}])
    with pytest.raises(TypeError, match="response"):
        client.grade(None, rubric_set="demo")
    with pytest.raises(ValueError, match="target"):
        RewardClient("no-port")
    with pytest.raises(ValueError, match="deadline"):
        ClientOptions(deadline=0)
    with pytest.raises(ValueError, match="tls_client"):
        ClientOptions(tls=True, tls_client_cert_file="c.pem")


def test_pickling_drops_the_channel_and_keeps_options(client):
    assert client.grade(GOOD, rubric_set="demo", rubric_id="arith-1").valid  # channel open
    data = pickle.dumps(client)
    assert b"Channel" not in data
    copy = pickle.loads(data)
    assert copy.options == client.options
    assert copy.grade(GOOD, rubric_set="demo", rubric_id="arith-1").valid


def test_targets_resolve_like_the_cpp_client():
    from rewardd.options import resolve_targets
    assert resolve_targets("127.0.0.1:1") == ["127.0.0.1:1"]
    assert resolve_targets("127.0.0.1:1, 127.0.0.2:2") == ["ipv4:127.0.0.1:1,127.0.0.2:2"]
    assert resolve_targets(["[::1]:1", "[::1]:2"]) == ["ipv6:[::1]:1,[::1]:2"]
    assert resolve_targets("a:1,127.0.0.1:2") == ["a:1", "127.0.0.1:2"]
    assert resolve_targets("dns:///rewardd.ml.svc:50051") == ["dns:///rewardd.ml.svc:50051"]
    assert resolve_targets("unix:/run/rewardd.sock") == ["unix:/run/rewardd.sock"]
