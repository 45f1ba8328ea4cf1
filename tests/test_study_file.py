"""A bad study file fails in load_study, with a message naming the key and a remedy, before any work."""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boltzspin.studies import study_file
from boltzspin.studies.study_file import StudyError, jobs, load_study

BASE = """
[study]
name = "base"
output = "{out}/base.nc"
retries = 2

[model]
type = "Rashba"
mass = 1.0
alpha = 0.5

[transport]
observable = "sz"
n_points = 32

[sweep]
mu = {{ start = 0.2, stop = 0.6, num = 3 }}
"disorder.density" = [0.01, 0.02]

[disorder.delta]
type = "DeltaCorrelated"
density = 0.01
strength = 1.0

[disorder.gauss]
type = "GaussianCorrelated"
density = 0.01
strength = 1.0
length = 1.0
"""


@pytest.fixture
def write(tmp_path):
    def write(text=None, mutate=None):
        text = BASE.format(out=tmp_path) if text is None else text
        path = tmp_path / "study.toml"
        path.write_text(mutate(text) if mutate else text)
        return path
    return write


def test_the_base_file_is_valid(write):
    spec = load_study(write())
    assert len(jobs(spec)) == 3 * 2 * 2


BAD = [
    # issue 10 item 10
    (lambda s: s.replace("[transport]", "[trasnport]"), r"unknown section 'trasnport'; did you mean 'transport'"),
    (lambda s: s.replace("retries = 2", "retries = 2\nretires = 3"), r"\[study\].*unknown key 'retires'; did you mean "
                                                                     r"'retries'"),
    (lambda s: s.replace("num = 3", "num = 3, stpo = 1"), r"range table of sweep axis 'mu'.*'stpo'; did you mean "
                                                         r"'stop'"),
    (lambda s: s.replace("num = 3", "num = 0"), r"num = 0 must be an integer >= 1"),
    (lambda s: s.replace("num = 3", "num = -3"), r"num = -3 must be an integer >= 1"),
    (lambda s: s.replace("num = 3", "num = 1.5"), r"num = 1.5 must be an integer >= 1"),
    (lambda s: s.replace("num = 3", "num = 3.0"), r"write num = 3"),
    (lambda s: s.replace("num = 3", "num = true"), r"num = True must be an integer"),
    (lambda s: s.replace("stop = 0.6", "stop = nan"), r"stop = nan must be a finite number"),
    (lambda s: s.replace("start = 0.2", 'start = "0.2"'), r"start = '0.2' must be a finite number"),
    (lambda s: s.replace("retries = 2", 'retries = "two"'), r"retries = 'two' must be an integer >= 0"),
    (lambda s: s.replace("retries = 2", "retries = -1"), r"retries = -1 must be an integer >= 0"),
    (lambda s: s.replace('name = "base"', "name = 3"), r"name = 3 must be a string"),
    (lambda s: s.replace("[0.01, 0.02]", "[0.01, 0.02, 0.01]"), r"'disorder.density' repeats the value 0.01"),
    (lambda s: s.replace("[0.01, 0.02]", "[1, 1.0]"), r"repeats the value"),
    (lambda s: s.replace("stop = 0.6", "stop = 0.2"), r"start = stop = 0.2 with num = 3 repeats one value"),
    (lambda s: s.replace('"disorder.density" = [0.01, 0.02]', '"disorder.density" = [0.01, 0.02]\n'
                         '"disorder.delta.density" = [0.03]'),
     r"sweep axes 'disorder.density' and 'disorder.delta.density' .* both set the same parameter"),
    (lambda s: s.replace('"disorder.density" = [0.01, 0.02]', '"model.exchange" = [[0, 0, 0.1]]\n'
                         '"model.exchange.2" = [0.1, 0.2]').replace("alpha = 0.5", "alpha = 0.5\nexchange = [0, 0, 0]"),
     r"'model.exchange' and 'model.exchange.2' .* both set the same parameter"),
    (lambda s: s.replace("n_points = 32", "n_points = 32\nmu = 0.3"), r"'mu' is given in \[transport\] and swept"),
    (lambda s: s.replace('"disorder.density"', '"disorder.nope.density"'), r"unknown disorder 'nope'"),
    (lambda s: s.replace('"disorder.density"', '"disorder.delta.x.density"'), r"disorder.NAME.PARAMETER"),
    (lambda s: s.replace('"disorder.density"', '"temprature"'), r"unknown keyword of transport 'temprature'; "
                                                                 r"did you mean 'temperature'"),
    (lambda s: s.replace("[disorder.gauss]", "[disorder.gauss]\nspecies = []"), r"species"),
    (lambda s: s.replace("[study]", "study = 3\n[other]"), r"unknown section 'other'"),
    # issue 11 item 5: [transport] keys and values
    (lambda s: s.replace("n_points = 32", "n_point = 32"), r"unknown keyword of transport 'n_point'; did you mean "
                                                          r"'n_points'"),
    (lambda s: s.replace('observable = "sz"', 'observable = "Sz"'), r"observable 'Sz' is not an operator.*'sz'"),
    (lambda s: s.replace("n_points = 32", "n_points = 4"), r"n_points=4 must be an integer >= 8"),
    (lambda s: s.replace("n_points = 32", "n_points = 32\nmethod = 'fast'"), r"method='fast' is not one of"),
    (lambda s: s.replace("n_points = 32", "n_points = 32\nsolver_tol = 0"), r"solver_tol=0 must be"),
    (lambda s: s.replace("n_points = 32", "n_points = 32\ntemperature = -1"), r"temperature=-1 must be"),
    (lambda s: s.replace("n_points = 32", "n_points = 32\nenergy_step = 0"), r"energy_step=0 must be"),
    (lambda s: s.replace("n_points = 32", "n_points = 32\ndisorder = 1"), r"unknown keyword of transport 'disorder'"),
    (lambda s: s.replace("num = 3", "num = 2").replace("stop = 0.6", "stop = nan"), r"stop = nan"),
    # issue 11 item 6: a misspelled disorder key is reported as such
    (lambda s: s.replace("length = 1.0", "lenght = 1.0").replace('"disorder.density"', '"disorder.length"'),
     r"\[disorder.gauss\]: unknown parameter 'lenght'; did you mean 'length'"),
    (lambda s: s.replace("alpha = 0.5", "alpah = 0.5"), r"bad arguments for model 'Rashba' in \[model\]: unknown "
                                                        r"parameter 'alpah'; did you mean 'alpha'"),
]


@pytest.mark.parametrize("mutate, match", BAD)
def test_bad_study_files_fail_in_load_study(write, mutate, match):
    path = write(mutate=mutate)
    assert path.read_text() != BASE.format(out=path.parent), "the mutation must change the file"
    with pytest.raises(StudyError, match=match):
        load_study(path)


def test_a_bad_value_at_one_point_names_the_point(write):
    path = write(mutate=lambda s: s.replace('"disorder.density" = [0.01, 0.02]', "n_points = [32, 4]")
                 .replace("n_points = 32", ""))
    with pytest.raises(StudyError, match=r"at the point .*n_points = 4.*n_points=4 must be an integer >= 8"):
        load_study(path)


def test_the_did_you_mean_remedy_works(write):
    """Applying the suggestion of the message gives a valid file."""
    path = write(mutate=lambda s: s.replace("n_points = 32", "n_point = 32"))
    with pytest.raises(StudyError, match="did you mean 'n_points'"):
        load_study(path)
    path.write_text(path.read_text().replace("n_point = 32", "n_points = 32"))
    assert len(jobs(load_study(path))) == 12


def test_huge_sweeps_are_refused_at_once(write):
    """num = 10**7 took more than 90 s to list; now a StudyError with the count and the remedy."""
    start = time.perf_counter()
    path = write(mutate=lambda s: s.replace("num = 3", "num = 10000000"))
    with pytest.raises(StudyError, match=r"40000000 points .*more than MAX_POINTS = 100000: split it"):
        load_study(path)
    path = write(mutate=lambda s: s.replace("num = 3", "num = 1e7"))
    with pytest.raises(StudyError, match=r"write num = 10000000"):
        load_study(path)
    assert time.perf_counter() - start < 2


def test_a_parameter_left_at_its_default_can_be_swept(write):
    """``disorder.P`` reaches every species whose constructor takes P, given in its table or not."""
    path = write(mutate=lambda s: s.replace('"disorder.density"', '"disorder.gauss.length"')
                 .replace("length = 1.0\n", ""))
    spec = load_study(path)
    lengths = sorted({j["disorder"]["length"] for j in jobs(spec) if j["coords"]["disorder"] == "gauss"})
    assert lengths == [0.01, 0.02]
    assert all("length" not in j["disorder"] for j in jobs(spec) if j["coords"]["disorder"] == "delta")


def test_magnetization_values_are_checked(tmp_path):
    text = f"""
[study]
quantity = "magnetization"
output = "{tmp_path}/m.nc"
[model]
type = "SquareLattice"
[magnetization]
mu = -1.0
observable = "Sz"
[sweep]
temperature = [0.0]
"""
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(StudyError, match=r"observable 'Sz' is not an operator"):
        load_study(path)
    path.write_text(text.replace('"Sz"', '"charge"').replace("[0.0]", "[0.0, -0.1]"))
    with pytest.raises(StudyError, match=r"temperature = -0.1.*temperature=-0.1 must be"):
        load_study(path)


# ---------------------------------------------------------------------------------------------
# random bad inputs: load_study raises StudyError (never another exception) or accepts the file

VALUES = st.one_of(
    st.integers(-10**8, 10**8), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.text(alphabet="abcxyz_Sz", max_size=6), st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.sampled_from(["start", "stop", "num", "step", "type"]), st.integers(-3, 40), max_size=4),
)
KEYS = st.sampled_from([
    ("study", "retries"), ("study", "name"), ("study", "quantity"), ("study", "nmae"), ("study", "output"),
    ("transport", "n_points"), ("transport", "observable"), ("transport", "n_point"), ("transport", "origin"),
    ("transport", "temperature"), ("transport", "charge"), ("transport", "k_max"), ("transport", "sea_order"),
    ("sweep", "mu"), ("sweep", "disorder.density"), ("sweep", "disorder.delta.density"), ("sweep", "model.alpha"),
    ("sweep", "model.exchange.2"), ("sweep", "n_points"), ("sweep", "disorder.lenght"),
    ("disorder.gauss", "length"), ("disorder.gauss", "lenght"), ("model", "mass"), ("model", "type"),
    ("trasnport", "n_points"), ("disorder.delta", "type"),
])


def _toml(value):
    import json
    import math

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


@settings(derandomize=True, deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(KEYS, VALUES), min_size=1, max_size=3))
def test_random_bad_inputs_give_a_study_error_or_a_valid_study(tmp_path, edits):
    tables = {}
    for (section, key), value in edits:
        tables.setdefault(section, {})[key] = value
    text = BASE.format(out=tmp_path)
    for section, keys in tables.items():
        lines = "\n".join(f'"{k}" = {_toml(v)}' for k, v in keys.items())
        header = f"[{section}]"
        if header in text:
            # drop the keys being replaced, then add the new values
            head, rest = text.split(header + "\n", 1)
            body, sep, tail = rest.partition("\n[")
            body = "\n".join(line for line in body.splitlines()
                             if line.split("=")[0].strip().strip('"') not in keys)
            text = head + header + "\n" + lines + "\n" + body + sep + tail
        else:
            text += f"\n{header}\n{lines}\n"
    path = tmp_path / "random.toml"
    path.write_text(text)
    start = time.perf_counter()
    try:
        spec = load_study(path)
    except StudyError as exc:
        assert str(exc)
    else:  # accepted: every point can be listed, and no point repeats another
        points = jobs(spec)
        assert len({j["file"] for j in points}) == len(points) <= study_file.MAX_POINTS
    assert time.perf_counter() - start < 10
