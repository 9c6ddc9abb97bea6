"""reward-cli tail-dataset and report on a fixture tail log, and the report
opened in headless Chromium (Debian's chromium package).

The fixture is written here: two rotated tail-*.jsonl files (named so that a
plain name sort would read them in the wrong order), window records with
reward histograms, saturated groups built from real data in ../shared/data
(the paper's worked example, where R1 and R2 tie; HealthBench prompts), a
garbage line, a record of unknown kind, and a prompt carrying a <script> and
an onerror handler. Two eval-rubrics JSON files stand for the old and new
rubric set versions.

Chromium renders the page with networking shut off; the test reads the DOM
after rendering (--dump-dom) and a screenshot (PNG decoded with zlib here).

Run: ctest -R tail_report_chromium_test, or by hand
  REWARD_CLI=build/client/reward-cli REWARDD_SHARED_DATA=../shared/data \
      /usr/bin/python3 -m pytest -q tests/integration/tail_report_test.py
"""

import html.parser
import json
import os
import shutil
import struct
import subprocess
import zlib

import pytest

REWARD_CLI = os.environ.get("REWARD_CLI", "build/client/reward-cli")
SHARED = os.environ.get("REWARDD_SHARED_DATA", "../shared/data")
SCHEMA = "rewardd.tail_log.v1"
INJECTION = ("<script>document.title='PWNED'</script>"
             "<img src=x onerror=\"document.title='PWNED2'\">")
N_WINDOWS = 12
HIST_EDGES = [round(i / 10, 1) for i in range(11)]


def chromium_binary():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def paper_example():
    with open(os.path.join(SHARED, "chasing_the_tail",
                           "paper_appendix_example.json")) as f:
        return json.load(f)


def healthbench_prompts(n):
    out = []
    with open(os.path.join(SHARED, "healthbench",
                           "healthbench_oss_eval_sample.jsonl")) as f:
        for line in f:
            rec = json.loads(line)
            out.append(rec["prompt"])
            if len(out) == n:
                break
    return out


def window(minute, groups, tied, zero_var):
    counts = [1, 0, 2, 3, 5, 8, 13, 21, 34, groups * 4 - 87]
    return {"schema": SCHEMA, "kind": "window",
            "time": f"2026-12-04T10:{minute:02d}:00.000Z",
            "rubric_set": "hb", "set_version": "v1abc", "seconds": 60.0,
            "groups": groups, "zero_variance_groups": zero_var,
            "tied_at_max_groups": tied, "responses": groups * 4,
            "responses_at_max": tied * 2,
            "reward_histogram": {"edges": HIST_EDGES, "counts": counts},
            "top2_gap_histogram": {"edges": HIST_EDGES,
                                   "counts": [tied] + [1] * 9},
            "sampled": tied, "dropped_rate_limited": 0,
            "dropped_queue_full": 0}


def saturated(minute, rubric_id, prompt, responses, policy="p7"):
    return {"schema": SCHEMA, "kind": "saturated_group",
            "time": f"2026-12-04T10:{minute:02d}:30.000Z",
            "rubric_set": "hb", "rubric_id": rubric_id,
            "rubric_version": "r" + rubric_id, "set_version": "v1abc",
            "labels": {"policy_version": policy}, "prompt": prompt,
            "group_size": 4, "valid": 4, "max_possible": 1.0,
            "top_reward": 0.9, "tied_at_top": len(responses),
            "zero_variance": False, "rewards": [0.9] * len(responses) + [0.2],
            "top": [{"index": i, "response": r, "reward": 0.9,
                     "verdicts": [{"criterion_id": "c1", "verdict": "MET",
                                   "status": "OK"}]}
                    for i, r in enumerate(responses)]}


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("tail")
    log_dir = root / "log"
    log_dir.mkdir()
    ex = paper_example()
    hb = healthbench_prompts(2)
    hb_text = [p[-1]["content"] if isinstance(p, list) else p for p in hb]
    r1, r2 = ex["responses"]["R1"], ex["responses"]["R2"]
    early = [window(m, 100, 10 + 5 * m, 2 + m) for m in range(6)]
    late = [window(m, 100, 10 + 5 * m, 2 + m) for m in range(6, N_WINDOWS)]
    early += [
        saturated(1, "paper", ex["prompt"], [r1, r2]),
        saturated(2, "hb-1", hb_text[0], ["answer A", "answer B"]),
    ]
    late += [
        saturated(7, "paper", ex["prompt"], [r2, r1, "R3 text"], "p8"),
        saturated(8, "inject", INJECTION, ["x " + INJECTION, "y"]),
        saturated(9, "paper", ex["prompt"], [r1, r2], "p8"),
    ]
    # seq 9 then 10: a name sort would read -10 first.
    (log_dir / "tail-20261204T100000Z-9.jsonl").write_text(
        "\n".join(json.dumps(r) for r in early) + "\n{not json\n")
    (log_dir / "tail-20261204T100000Z-10.jsonl").write_text(
        "\n".join(json.dumps(r) for r in late) +
        "\n" + json.dumps({"schema": SCHEMA, "kind": "future_kind"}) + "\n")
    evals = []
    for name, version, tied, sep in [("hb", "v1abc", 3, 0),
                                     ("hb-refined", "v2def", 1, 2)]:
        p = root / f"eval-{name}.json"
        p.write_text(json.dumps({
            "schema": "rewardd.eval_rubrics.v1",
            "sets": [{"rubric_set": name, "set_version": version,
                      "pairs": 40, "accuracy": 0.6 + 0.1 * sep,
                      "tie_rate": 0.3 - 0.1 * sep, "top_quartile_pairs": 10,
                      "top_quartile_accuracy": 0.5 + 0.15 * sep,
                      "groups": 3, "tied_top_groups": tied,
                      "separated_groups": sep, "zero_variance_groups": 0,
                      "errors": 0}]}))
        evals.append(str(p))
    return {"root": root, "log_dir": str(log_dir), "evals": evals,
            "prompt": ex["prompt"], "r1": r1, "r2": r2}


def run_cli(*args):
    return subprocess.run([REWARD_CLI, *args], capture_output=True, text=True,
                          timeout=120)


def test_tail_dataset_writes_refine_input_and_eval_groups(fixture):
    refine = fixture["root"] / "refine.jsonl"
    groups = fixture["root"] / "groups.jsonl"
    r = run_cli("tail-dataset", "--tail_log_dir", fixture["log_dir"],
                f"--refine_out={refine}", f"--groups_out={groups}")
    assert r.returncode == 0, r.stderr
    assert "skipped 1 unparsable lines, 1 records of unknown kind" in r.stderr
    records = {rec["id"]: rec for rec in
               map(json.loads, refine.read_text().splitlines())}
    assert sorted(records) == ["hb-1", "inject", "paper"]
    paper = records["paper"]
    assert paper["prompt"] == fixture["prompt"]
    assert (paper["rubric_set"], paper["rubric_id"]) == ("hb", "paper")
    # Distinct tied responses across the rubric's 3 groups, newest first.
    texts = [x["response"] for x in paper["responses"]]
    assert texts == [fixture["r1"], fixture["r2"], "R3 text"]
    assert paper["responses"][0]["generator"] == (
        "tail-log policy_version=p8")
    eval_groups = [json.loads(x) for x in groups.read_text().splitlines()]
    # 5 logged groups; the last repeats the first (same prompt and pair).
    assert [g["id"] for g in eval_groups] == [
        "paper/1", "hb-1/1", "paper/2", "inject/1"]
    assert all(len(g["responses"]) >= 2 for g in eval_groups)


def test_tail_dataset_unknown_set_names_the_flag(fixture):
    out = fixture["root"] / "never.jsonl"
    r = run_cli("tail-dataset", "--tail_log_dir", fixture["log_dir"],
                "--rubric_set=nope", f"--refine_out={out}")
    assert r.returncode == 2
    assert "--rubric_set: 'nope' has no records" in r.stderr
    assert not out.exists()
    r = run_cli("tail-dataset", "--tail_log_dir", fixture["log_dir"],
                f"--refine_out={out}", f"--groups_out={out}")
    assert r.returncode == 2 and "name the same file" in r.stderr
    r = run_cli("tail-dataset", "--tail_log_dir",
                str(fixture["root"] / "no-such-dir"), f"--refine_out={out}")
    assert r.returncode == 2 and "--tail_log_dir: cannot list" in r.stderr
    assert not out.exists()


def test_report_takes_evals_as_a_comma_list_and_names_bad_fields(fixture):
    out = fixture["root"] / "comma.html"
    r = run_cli("report", f"--tail_log_dir={fixture['log_dir']}",
                "--eval=" + ",".join(fixture["evals"]), f"--output={out}")
    assert r.returncode == 0, r.stderr
    page = out.read_text()
    assert "hb @ v1abc" in page and "hb-refined @ v2def" in page
    bad = fixture["root"] / "bad-eval.json"
    bad.write_text(json.dumps({"schema": "rewardd.eval_rubrics.v1",
                               "sets": [{"rubric_set": "x",
                                         "accuracy": "high"}]}))
    never = fixture["root"] / "never.html"
    r = run_cli("report", f"--tail_log_dir={fixture['log_dir']}",
                f"--eval={bad}", f"--output={never}")
    assert r.returncode == 2
    assert "sets[0].accuracy: not a number" in r.stderr
    assert not never.exists()


class DomCounter(html.parser.HTMLParser):
    """Counts elements by tag and class inside each element with an id."""

    def __init__(self):
        super().__init__()
        self.stack = []       # ids of open elements with an id
        self.open_tags = []   # (tag, had_id)
        self.counts = {}      # (id, tag, class) -> n
        self.attrs_by_id = {}
        self.tags = {}
        self.text = []

    VOID = {"img", "br", "meta", "input", "link", "hr"}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for scope in self.stack:
            for cls in (a.get("class") or "").split() or [""]:
                key = (scope, tag, cls)
                self.counts[key] = self.counts.get(key, 0) + 1
        if "id" in a:
            self.attrs_by_id[a["id"]] = a
        if tag in self.VOID:
            return
        self.open_tags.append((tag, "id" in a))
        if "id" in a:
            self.stack.append(a["id"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        while self.open_tags:
            t, had_id = self.open_tags.pop()
            if had_id:
                self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        self.text.append(data)

    def count(self, scope, tag, cls=""):
        return self.counts.get((scope, tag, cls), 0)


def chromium(args, cwd, tmp):
    binary = chromium_binary()
    # No network: an unroutable proxy for everything, no DNS, and no
    # background services; a throwaway profile.
    cmd = [binary, "--headless=new", "--no-sandbox", "--disable-gpu",
           "--no-first-run", "--no-default-browser-check",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-extensions", "--disable-default-apps",
           "--disable-features=MediaRouter,OptimizationHints,Translate",
           "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
           "--host-resolver-rules=MAP * ~NOTFOUND",
           f"--user-data-dir={tmp}/profile", "--hide-scrollbars",
           "--virtual-time-budget=2000", *args]
    env = dict(os.environ, HOME=str(tmp))
    return subprocess.run(cmd, capture_output=True, cwd=cwd, env=env,
                          timeout=180)


def decode_png(data):
    """RGB(A) rows of an 8-bit non-interlaced PNG: (width, height, rows)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(
                ">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = prev[i]
            ul = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + left) & 255
            elif f == 2:
                line[i] = (line[i] + up) & 255
            elif f == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif f == 4:
                p = left + up - ul
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                pred = left if pa <= pb and pa <= pc else (
                    up if pb <= pc else ul)
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


@pytest.fixture(scope="module")
def rendered(fixture, tmp_path_factory):
    if chromium_binary() is None:
        pytest.skip("chromium not installed: run scripts/bootstrap.sh "
                    "(Debian package chromium)")
    out = fixture["root"] / "report.html"
    args = ["report", "--tail_log_dir", fixture["log_dir"],
            "--eval", fixture["evals"][0], "--eval", fixture["evals"][1],
            f"--output={out}"]
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    tmp = tmp_path_factory.mktemp("chromium")
    url = "file://" + str(out)
    dom = chromium(["--dump-dom", url], tmp, tmp)
    assert dom.returncode == 0, dom.stderr.decode()[-2000:]
    shot = tmp / "shot.png"
    s = chromium([f"--screenshot={shot}", "--window-size=1200,2000", url],
                 tmp, tmp)
    assert s.returncode == 0 and shot.exists(), s.stderr.decode()[-2000:]
    parser = DomCounter()
    parser.feed(dom.stdout.decode())
    return {"html": out.read_text(), "dom": dom.stdout.decode(),
            "parsed": parser, "png": shot.read_bytes()}


def test_report_is_self_contained(rendered):
    page = rendered["html"]
    for needle in ("<script", "src=\"http", "href=\"http", "@import",
                   "url("):
        assert needle not in page, needle
    assert "Content-Security-Policy" in page


def test_rendered_dom_has_the_charts(rendered):
    d = rendered["parsed"]
    # One bar per histogram bin, summed over the 12 windows.
    assert d.count("reward-histogram", "rect", "bar") == 10
    assert d.attrs_by_id["reward-histogram"]["data-bars"] == "10"
    assert d.count("top2-gap-histogram", "rect", "bar") == 10
    # Three series, one point per window.
    assert d.count("tied-share", "circle", "point") == 3 * N_WINDOWS
    assert d.count("tied-share", "polyline", "line") == 3
    # The rubrics from the saturated groups, most saturated first.
    assert d.count("rubric-table", "tr", "rubric-row") == 3
    # Two versions side by side: 10 metric rows, 2 sets x 6 rates as bars.
    assert d.count("eval-table", "tr", "eval-row") == 10
    assert d.count("eval-chart", "rect", "bar") == 12
    assert d.count("eval-chart", "rect", "s1") == 6


def test_injected_script_did_not_run(rendered):
    d, dom = rendered["parsed"], rendered["dom"]
    assert d.tags.get("script", 0) == 0
    assert d.tags.get("img", 0) == 0
    assert "PWNED" not in (d.attrs_by_id.get("title") or {})
    title = dom.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title == "Tail report: hb"
    # The prompt is shown, as text.
    assert "<script>document.title='PWNED'</script>" in "".join(d.text)


def test_screenshot_has_the_charts_painted(rendered):
    width, height, bpp, rows = decode_png(rendered["png"])
    assert (width, height) == (1200, 2000)

    def near(px, rgb):
        return all(abs(px[i] - rgb[i]) <= 12 for i in range(3))

    blue, orange = (0x42, 0x69, 0xd0), (0xef, 0x8a, 0x3c)
    blue_rows, orange_px, non_white, most_bars = set(), 0, 0, 0
    for y, row in enumerate(rows):
        bars, in_bar = 0, False
        for x in range(width):
            px = row[x * bpp:x * bpp + 3]
            is_blue = near(px, blue)
            bars += is_blue and not in_bar
            in_bar = is_blue
            if x % 2:
                continue
            if px != b"\xff\xff\xff":
                non_white += 1
            if is_blue:
                blue_rows.add(y)
            elif near(px, orange):
                orange_px += 1
        most_bars = max(most_bars, bars)
    assert non_white > 20000
    # Near its axis a row crosses every bar of the top-two gap histogram
    # (no bin of the fixture's is empty): 10 separate blue runs.
    assert most_bars >= 10
    # Histogram bars and the series lines are drawn in blue across a tall
    # span of the page; the eval chart's second set and the second series
    # in orange.
    assert len(blue_rows) > 150
    assert orange_px > 200
