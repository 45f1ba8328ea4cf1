"""Random campaign: do boltzspin's results hold up, and are their error estimates honest?

Draws random models (2- and 3-band k.p, Rashba/Dirac variants, 12 % lattice models: LatticeRashba
and Qi-Wu-Zhang),
random k rotations, random disorder species and mixtures and random chemical potentials
(band edges included), runs :func:`boltzspin.transport` at a modest resolution and
against a high-resolution reference, and counts

* ``success``: a result that agrees with the reference within its estimate or tolerance;
* ``clear_error``: a :class:`boltzspin.BoltzspinError` (with its message's first words);
* ``other_exception``: anything else (a bug);
* ``silent_wrong``: ``|value - reference| > estimate`` and ``> tolerance``;
* ``estimate_violation``: ``|value - reference| > estimate`` (any size), where the
  estimate is ``sigma_error`` of the result plus that of the reference (whose own
  round-off is not zero);
* ``reference_failed``: the result succeeded, the reference raised (not judged).

Usage: ``nice -n 10 python benchmarks/campaign.py [--models 300] [--seed 0] [--json FILE]``
(tens of minutes on 2 cores; ``--json`` receives a partial summary every 10 models, so the
campaign can be stopped and run in pieces with different seeds).
"""

from __future__ import annotations

import argparse
import collections
import json
import time
import traceback

import numpy as np

import boltzspin as bs
from boltzspin.models.continuum import PAULI

RAYS, RAYS_REF = 64, 256
GRID, GRID_REF = 48, 128
#: A result is silently wrong if it misses the reference by more than its estimate AND by this
#: much relative to max(|reference| of the component, |q s| / (8 pi)).
TOLERANCE = 1e-3


def _rotation(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def random_kp(rng, n_bands):
    """k^2/2m + constant + linear Hermitian couplings, k rotated by a random angle."""
    mass = rng.uniform(0.5, 2.0)
    def herm(scale):
        a = rng.normal(scale=scale, size=(n_bands, n_bands)) + 1j * rng.normal(scale=scale, size=(n_bands, n_bands))
        return (a + a.conj().T) / 2
    h0, hx, hy = herm(0.2), herm(0.4), herm(0.4)
    rot = _rotation(rng.uniform(0, 2 * np.pi))

    def hamiltonian(k):
        k = k @ rot
        kin = (np.sum(k * k, -1) / (2 * mass))[..., None, None] * np.eye(n_bands)
        return kin + h0 + k[..., 0, None, None] * hx + k[..., 1, None, None] * hy

    operators = {"sz": np.diag(rng.choice([-0.5, 0.5], size=n_bands)).astype(complex)}
    if n_bands == 2:
        operators = {"sx": PAULI[0] / 2, "sy": PAULI[1] / 2, "sz": PAULI[2] / 2}
    model = bs.KPModel(hamiltonian, operators=operators, name=f"kp{n_bands}")
    e = np.linalg.eigvalsh(h0)
    return model, rng.uniform(e.min() - 0.1, e.max() + 0.6)


def random_rashba(rng):
    m, a = rng.uniform(0.3, 2.0), rng.uniform(0.1, 1.0)
    beta = rng.choice([0.0, rng.uniform(-0.3, 0.3) * a])
    h = tuple(rng.choice([0.0, 1.0], size=3) * rng.normal(scale=0.1, size=3))
    model = bs.Rashba(m, a, dresselhaus=float(beta), exchange=h)
    bottom = -m * (abs(a) + abs(beta)) ** 2 / 2 - np.linalg.norm(h)
    if rng.random() < 0.15:  # at a band edge
        mu = float(rng.choice([bottom + 10.0 ** rng.uniform(-9, -3), 10.0 ** rng.uniform(-9, -3) + np.linalg.norm(h)]))
    else:
        mu = rng.uniform(bottom, 1.0)
    return model, mu


def random_dirac(rng):
    v, gap = rng.uniform(0.3, 2.0), rng.uniform(-1.0, 1.0)
    model = bs.MassiveDirac(v, gap)
    if rng.random() < 0.2:
        mu = abs(gap) * (1 + 10.0 ** rng.uniform(-9, -3))
    else:
        mu = rng.choice([-1, 1]) * rng.uniform(0.0, 2.0) + 0.0
    return model, float(mu)


def random_lattice(rng):
    """LatticeRashba (in-plane exchange too), or Qi-Wu-Zhang with a random mass."""
    if rng.random() < 0.5:
        exchange = tuple(rng.choice([0.0, 1.0], size=3) * rng.uniform(-0.3, 0.3, size=3))
        model = bs.LatticeRashba(1.0, rng.uniform(0.1, 0.5), exchange=exchange)
        return model, rng.uniform(-2.5, 1.5)
    model = bs.QiWuZhang(rng.uniform(-2.5, 2.5))
    return model, rng.uniform(-3.5, 3.5)


def random_disorder(rng, lattice, spin=True):
    kinds = ["delta"] + (["magnetic"] if spin else []) + ([] if lattice else ["gaussian"])
    species = []
    for _ in range(int(rng.integers(1, 3))):
        kind = rng.choice(kinds)
        density = 10.0 ** rng.uniform(-3, -1)
        if kind == "delta":
            species.append(bs.DeltaCorrelated(density, rng.uniform(0.3, 2.0)))
        elif kind == "gaussian":
            species.append(bs.GaussianCorrelated(density, rng.uniform(0.3, 2.0), rng.uniform(0.2, 1.5)))
        else:
            species.append(bs.MagneticImpurities(density, rng.uniform(0.1, 1.0), 0.5))
    out = species[0]
    for s in species[1:]:
        out = out + s
    return out


def draw(rng):
    u = rng.random()
    if u < 0.35:
        model, mu = random_kp(rng, 2)
    elif u < 0.55:
        model, mu = random_kp(rng, 3)
    elif u < 0.77:
        model, mu = random_rashba(rng)
    elif u < 0.88:
        model, mu = random_dirac(rng)
    else:
        model, mu = random_lattice(rng)
    lattice = getattr(model, "periodic", False)
    observable = rng.choice(["sz", "charge"])
    spin = {"sx", "sy", "sz"} <= set(model.operators)
    return model, float(mu), random_disorder(rng, lattice, spin), str(observable), lattice


def run(n_models, seed, checkpoint=None):
    rng = np.random.default_rng(seed)
    counts = collections.Counter()
    errors = collections.Counter()
    others = collections.Counter()
    examples = collections.defaultdict(list)
    ratios = []
    start = time.time()

    def summary(done):
        return dict(counts=dict(counts), clear_errors=dict(errors), other_exceptions=dict(others),
                    examples={k: v[:4] for k, v in examples.items()}, n_models=done, seed=seed,
                    seconds=round(time.time() - start, 1),
                    estimate_over_true_median=float(np.median(ratios)) if ratios else None)
    for i in range(n_models):
        model, mu, disorder, observable, lattice = draw(rng)
        n, n_ref = (GRID, GRID_REF) if lattice else (RAYS, RAYS_REF)
        label = f"#{i} {model!r} mu={mu!r} {disorder!r} {observable}"
        try:
            ds = bs.transport(model, mu, disorder, observable, n_points=n)
        except bs.BoltzspinError as exc:
            counts["clear_error"] += 1
            key = f"{type(exc).__name__}: {' '.join(str(exc).split()[:6])}"
            errors[key] += 1
            if len(examples[key]) < 2:
                examples[key].append(label)
            continue
        except Exception as exc:  # noqa: BLE001 -- counting bugs is the point
            counts["other_exception"] += 1
            key = f"{type(exc).__name__}: {str(exc)[:60]}"
            others[key] += 1
            examples[key].append(label + "\n" + traceback.format_exc(limit=3))
            continue
        try:
            ref = bs.transport(model, mu, disorder, observable, n_points=n_ref)
        except Exception as exc:  # noqa: BLE001
            counts["reference_failed"] += 1
            examples["reference_failed"].append(f"{label}: {type(exc).__name__}: {str(exc)[:80]}")
            continue
        diff = np.abs(ds.sigma.values - ref.sigma.values)
        # the reference is known only to its own estimate (round-off at least)
        est = ds.sigma_error.values + ref.sigma_error.values
        s_norm = 1.0 if observable == "charge" else 0.5
        scale = np.maximum(np.abs(ref.sigma.values), s_norm / (8 * np.pi))
        over = diff > est
        wrong = over & (diff > TOLERANCE * scale)
        ratios.append(float(np.max(np.where(est > 0, diff / np.maximum(est, 1e-300), 0.0))))
        if np.any(wrong):
            counts["silent_wrong"] += 1
            c, a, b = np.argwhere(wrong)[0]
            examples["silent_wrong"].append(
                f"{label}: {ds.contribution.values[c]}[{a}{b}] {ds.sigma.values[c, a, b]:.6g} vs ref "
                f"{ref.sigma.values[c, a, b]:.6g}, estimate {est[c, a, b]:.3g}; DOS {float(ds.density_of_states):.6g} "
                f"vs {float(ref.density_of_states):.6g}")
        else:
            counts["success"] += 1
        if np.any(over):
            counts["estimate_violation"] += 1
            c, a, b = np.argwhere(over)[0]
            examples["estimate_violation"].append(
                f"{label}: {ds.contribution.values[c]}[{a}{b}] |diff| {diff[c, a, b]:.3g} > estimate {est[c, a, b]:.3g}")
        if (i + 1) % 10 == 0:
            print(f"{i + 1} models, {time.time() - start:.0f} s: {dict(counts)}", flush=True)
            if checkpoint:
                checkpoint(summary(i + 1))
    return summary(n_models)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the summary to this file")
    args = parser.parse_args()
    def write(summary):
        if args.json:
            with open(args.json, "w") as fh:
                fh.write(json.dumps(summary, indent=1))

    summary = run(args.models, args.seed, checkpoint=write)  # partial summaries every 10 models
    write(summary)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
