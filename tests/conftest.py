"""Shared fixtures and named tolerances."""

import numpy as np
import pytest

#: Agreement expected of exact identities evaluated in floating point.
IDENTITY_RTOL = 1e-10
#: Agreement expected of analytic values at the default resolution.
ANALYTIC_RTOL = 1e-9

Q_ELECTRON = -1.0


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)


def random_hermitian(rng, n, scale=1.0):
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return scale * (a + a.conj().T) / 2
