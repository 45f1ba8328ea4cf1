import numpy as np
import pytest

import boltzspin as bs
from boltzspin.models.continuum import PAULI, check_model, resolve_observable

from conftest import random_hermitian


def test_rashba_hamiltonian_matches_formula(rng):
    m, a, b, h = 0.7, 0.4, 0.15, (0.1, -0.2, 0.3)
    model = bs.Rashba(m, a, dresselhaus=b, exchange=h)
    k = rng.normal(size=(5, 3, 2))
    kx, ky = k[..., 0], k[..., 1]
    sx, sy, sz = PAULI
    expected = (
        ((kx**2 + ky**2) / (2 * m))[..., None, None] * np.eye(2)
        + (a * ky + b * kx + h[0])[..., None, None] * sx
        + (-a * kx - b * ky + h[1])[..., None, None] * sy
        + h[2] * sz
    )
    assert model.hamiltonian(k).shape == (5, 3, 2, 2)
    np.testing.assert_allclose(model.hamiltonian(k), expected, atol=1e-15)
    assert model.velocity(k).shape == (5, 3, 2, 2, 2)


@pytest.mark.parametrize(
    "model",
    [bs.Rashba(1.3, 0.4, dresselhaus=0.2, exchange=(0.1, 0.2, 0.3)), bs.MassiveDirac(0.8, -0.3)],
)
def test_analytic_velocity_equals_finite_difference(model, rng):
    fd = bs.KPModel(model.hamiltonian, dim=2)
    k = rng.normal(size=(20, 2))
    np.testing.assert_allclose(fd.velocity(k), model.velocity(k), atol=1e-10)


def test_kpmodel_shapes_and_operators():
    model = bs.KPModel(lambda k: np.sum(k**2, -1)[..., None, None] * np.eye(2) + 0.1 * PAULI[2],
                       operators={"sz": PAULI[2] / 2})
    assert model.n_bands == 2 and model.dim == 2
    check_model(model)
    s, label = resolve_observable(model, "sz", -1.0)
    np.testing.assert_array_equal(s, PAULI[2] / 2)
    s, label = resolve_observable(model, "charge", -1.0)
    np.testing.assert_array_equal(s, -np.eye(2))


def test_non_hermitian_hamiltonian_is_rejected():
    bad = bs.KPModel(lambda k: np.broadcast_to(np.array([[0, 1], [0, 0]], complex), k.shape[:-1] + (2, 2)))
    with pytest.raises(bs.ModelError, match="not Hermitian"):
        check_model(bad)
    with pytest.raises(bs.ModelError, match="not Hermitian"):
        bs.transport(bad, 0.5, bs.DeltaCorrelated(0.01, 1.0))


def test_wrong_shape_is_rejected():
    # ignores the leading axes of k: not vectorized
    bad = bs.KPModel(lambda k: np.eye(2, dtype=complex))
    with pytest.raises(bs.ModelError, match="vectorize"):
        check_model(bad)
    with pytest.raises(bs.ModelError, match="shape"):
        bs.Rashba(1, 0.5).hamiltonian(np.zeros((4, 3)))


@pytest.mark.parametrize(
    "make",
    [
        lambda: bs.Rashba(np.nan, 0.5),
        lambda: bs.Rashba(1.0, np.inf),
        lambda: bs.Rashba(0.0, 0.5),
        lambda: bs.Rashba(1.0, 0.5, exchange=(0, np.nan, 0)),
        lambda: bs.MassiveDirac(1.0, np.nan),
    ],
)
def test_nan_parameters_are_rejected(make):
    with pytest.raises(bs.ModelError):
        make()


def test_nan_inside_user_model_is_rejected():
    bad = bs.KPModel(lambda k: np.where(k[..., :1, None] > 0.5, np.nan, 1.0) * np.eye(2))
    with pytest.raises(bs.ModelError, match="NaN"):
        check_model(bad, k=np.array([[1.0, 0.0]]))


def test_observable_validation(rng):
    model = bs.Rashba(1, 0.5)
    with pytest.raises(bs.ModelError, match="not an operator"):
        resolve_observable(model, "spin", -1.0)
    with pytest.raises(bs.ModelError, match="Hermitian"):
        resolve_observable(model, np.array([[0, 1], [0, 0]]), -1.0)
    with pytest.raises(bs.ModelError, match="shape"):
        resolve_observable(model, np.eye(3), -1.0)
    h = random_hermitian(rng, 2)
    np.testing.assert_array_equal(resolve_observable(model, h, -1.0)[0], h)
