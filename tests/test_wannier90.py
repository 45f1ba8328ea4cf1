import re

import numpy as np
import pytest
from test_tight_binding import random_tb

from boltzspin.errors import ModelError
from boltzspin.models.continuum import Rashba
from boltzspin.models.tight_binding import LatticeRashba
from boltzspin.models.wannier90 import read_hr_dat, read_tb_dat, write_hr_dat, write_tb_dat

#: Written files keep 17 significant digits: read-back agrees to round-off.
ROUNDTRIP_ATOL = 1e-12


def known_models():
    rng = np.random.default_rng(2024)
    return [random_tb(rng, 2, 3), random_tb(rng, 3, 2), LatticeRashba(0.8, 0.3, exchange=(0.0, 0.1, 0.2))]


@pytest.mark.parametrize("model", known_models(), ids=repr)
def test_write_read_roundtrip(model, tmp_path, rng):
    k = rng.normal(size=(20, model.dim))
    bands = np.linalg.eigvalsh(model.hamiltonian(k))
    write_hr_dat(model, tmp_path / "m_hr.dat")
    write_tb_dat(model, tmp_path / "m_tb.dat")
    hr = read_hr_dat(tmp_path / "m_hr.dat", model.lattice_vectors)
    np.testing.assert_allclose(np.linalg.eigvalsh(hr.hamiltonian(k)), bands, atol=ROUNDTRIP_ATOL)
    hr_tau = read_hr_dat(tmp_path / "m_hr.dat", model.lattice_vectors, positions=model.positions)
    tb = read_tb_dat(tmp_path / "m_tb.dat", dim=model.dim)
    for other in (hr_tau, tb):  # positions restored: the same Bloch Hamiltonian, velocity and geometry
        assert other.dim == model.dim and other.n_bands == model.n_bands
        np.testing.assert_allclose(other.positions, model.positions, atol=ROUNDTRIP_ATOL)
        np.testing.assert_allclose(other.hamiltonian(k), model.hamiltonian(k), atol=ROUNDTRIP_ATOL)
        np.testing.assert_allclose(other.velocity(k), model.velocity(k), atol=ROUNDTRIP_ATOL)
    np.testing.assert_allclose(tb.lattice_vectors, model.lattice_vectors, atol=ROUNDTRIP_ATOL)
    if model.dim == 2:  # a 2D file read as 3D (R3 = 0, unit c-axis), or with a planar 3x3 lattice
        as3d = read_tb_dat(tmp_path / "m_tb.dat")
        k3 = np.concatenate([k, rng.normal(size=(20, 1))], axis=-1)
        np.testing.assert_allclose(np.linalg.eigvalsh(as3d.hamiltonian(k3)), bands, atol=ROUNDTRIP_ATOL)
        lattice3 = np.eye(3)
        lattice3[:2, :2] = model.lattice_vectors
        planar = read_hr_dat(tmp_path / "m_hr.dat", lattice3, dim=2)
        np.testing.assert_allclose(np.linalg.eigvalsh(planar.hamiltonian(k)), bands, atol=ROUNDTRIP_ATOL)


HAND_HR = """\
hand-written: two orbitals on a chain along x, weights 2 on R = +-x
    2
    3
    2    1    2
   -1    0    0    1    1   -1.000000    0.000000
   -1    0    0    2    1    0.000000    0.000000
   -1    0    0    1    2    0.000000    0.000000
   -1    0    0    2    2    0.500000    0.000000
    0    0    0    1    1    0.250000    0.000000
    0    0    0    2    1    0.300000   -0.400000
    0    0    0    1    2    0.300000    0.400000
    0    0    0    2    2   -0.250000    0.000000
    1    0    0    1    1   -1.000000    0.000000
    1    0    0    2    1    0.000000    0.000000
    1    0    0    1    2    0.000000    0.000000
    1    0    0    2    2    0.500000    0.000000
"""


def test_hand_written_hr_dat_with_degeneracies(tmp_path):
    (tmp_path / "x_hr.dat").write_text(HAND_HR)
    model = read_hr_dat(tmp_path / "x_hr.dat", np.diag([2.0, 3.0, 4.0]))
    kx = np.linspace(-2, 2, 7)
    k = np.stack([kx, 0.3 + 0 * kx, -0.1 + 0 * kx], axis=-1)
    h = model.hamiltonian(k)
    # t_R = H(R) / 2 on R = +-x (a1 = 2 x): -cos(2 kx) and +cos(2 kx) / 2 on the diagonal
    np.testing.assert_allclose(h[:, 0, 0], 0.25 - np.cos(2 * kx), atol=ROUNDTRIP_ATOL)
    np.testing.assert_allclose(h[:, 1, 1], -0.25 + 0.5 * np.cos(2 * kx), atol=ROUNDTRIP_ATOL)
    np.testing.assert_allclose(h[:, 0, 1], 0.3 + 0.4j, atol=ROUNDTRIP_ATOL)  # line "m=1 n=2": H_12
    model2d = read_hr_dat(tmp_path / "x_hr.dat", np.diag([2.0, 3.0]))
    assert model2d.dim == 2
    np.testing.assert_allclose(model2d.hamiltonian(k[:, :2]), h, atol=ROUNDTRIP_ATOL)


def test_degeneracies_fifteen_per_line(tmp_path):
    rs = range(-8, 9)
    deg = [1 + abs(r) % 3 for r in rs]
    lines = ["many R", "1", str(len(deg)), "".join(f"{d:5d}" for d in deg[:15]), "".join(f"{d:5d}" for d in deg[15:])]
    lines += [f"{r:5d}    0    0    1    1   {-0.1 * abs(r):.6f}  0.000000" for r in rs]
    (tmp_path / "y_hr.dat").write_text("\n".join(lines) + "\n")
    model = read_hr_dat(tmp_path / "y_hr.dat", np.eye(3))
    kx = 0.7
    expected = sum(-0.1 * abs(r) / d * np.cos(r * kx) for r, d in zip(rs, deg))
    np.testing.assert_allclose(model.hamiltonian([kx, 0, 0])[0, 0], expected, atol=ROUNDTRIP_ATOL)


HAND_TB = """\
hand-written: a dimer chain, centres at x = 0 and x = 1 in a cell of length 2
 2.0 0.0 0.0
 0.0 2.0 0.0
 0.0 0.0 3.0
 2
 3
    2    1    2

   -1    0    0
    1    1  0.0 0.0
    2    1  0.0 0.0
    1    2 -2.0 0.0
    2    2  0.0 0.0

    0    0    0
    1    1  0.0 0.0
    2    1 -1.0 0.0
    1    2 -1.0 0.0
    2    2  0.0 0.0

    1    0    0
    1    1  0.0 0.0
    2    1 -2.0 0.0
    1    2  0.0 0.0
    2    2  0.0 0.0

   -1    0    0
    1    1  0.0 0.0 0.0 0.0 0.0 0.0
    2    1  0.0 0.0 0.0 0.0 0.0 0.0
    1    2  0.0 0.0 0.0 0.0 0.0 0.0
    2    2  0.0 0.0 0.0 0.0 0.0 0.0

    0    0    0
    1    1  0.0 0.0 0.0 0.0 0.0 0.0
    2    1  0.0 0.0 0.1 0.0 0.0 0.0
    1    2  0.0 0.0 0.1 0.0 0.0 0.0
    2    2  1.0 0.0 0.0 0.0 0.0 0.0

    1    0    0
    1    1  0.0 0.0 0.0 0.0 0.0 0.0
    2    1  0.0 0.0 0.0 0.0 0.0 0.0
    1    2  0.0 0.0 0.0 0.0 0.0 0.0
    2    2  0.0 0.0 0.0 0.0 0.0 0.0
"""


def test_hand_written_tb_dat_uses_wannier_centres(tmp_path):
    (tmp_path / "d_tb.dat").write_text(HAND_TB)
    model = read_tb_dat(tmp_path / "d_tb.dat")
    np.testing.assert_allclose(model.positions, [[0, 0, 0], [0.5, 0, 0]], atol=ROUNDTRIP_ATOL)
    kx = np.linspace(-1.5, 1.5, 5)
    h = model.hamiltonian(np.stack([kx, 0 * kx, 0 * kx], -1))
    # Wannier90: H_12 = -(1 + e^{-2i kx}); with centres in the phases: -2 cos kx
    np.testing.assert_allclose(h[:, 0, 1], -2 * np.cos(kx), atol=ROUNDTRIP_ATOL)
    np.testing.assert_allclose(model.hoppings[(-1, 0, 0)], [[0, -1], [0, 0]], atol=ROUNDTRIP_ATOL)  # / N_R = 2
    assert read_tb_dat(tmp_path / "d_tb.dat", dim=2).dim == 2


def _corrupt(text, lineno, new):
    lines = text.splitlines()
    if new is None:
        del lines[lineno - 1:]
    else:
        lines[lineno - 1] = new
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "lineno, new, match",
    [
        (2, "two", r"line 2: expected num_wann, could not parse 'two'"),
        (3, "0", r"line 3: nrpts must be a positive"),
        (4, "    2    1", r"line 5: expected 3 integer degeneracies"),
        (4, "    2    1    2    1", r"line 4: expected 3 positive degeneracies"),
        (7, "   -1    0    0    1    1    0.0   0.0", r"line 7: element \(1, 1\) of R=\(-1, 0, 0\) appears twice"),
        (8, "   -1    0    0    3    2    0.5   0.0", r"line 8: orbital indices \(3, 2\) outside"),
        (9, "    0    0    0    1    1    0.25", r"line 9: expected .* \(7 numbers\), got 6 fields"),
        (10, "    0    0    0    2    1    0.3   abc", "line 10: expected .* could not parse"),
        (12, "    0    0    0    2    2    nan    0.0", "line 12: NaN or inf"),
        (13, "    0    0    0    1    1   -1.0   0.0", r"line 13: R=\(0, 0, 0\) appears in two blocks"),
        (14, "    2    0    0    2    1    0.0   0.0", r"line 14: R=\(2, 0, 0\) inside the block"),
        (11, "    0    0    0    1    2    0.3   0.5", r"H\(-R\) != H\(R\)\^dagger for R=\(0, 0, 0\)"),
        (15, None, "file ends after line 14, expected 'R1 R2 R3"),
    ],
)
def test_malformed_hr_dat_names_the_line(tmp_path, lineno, new, match):
    (tmp_path / "bad_hr.dat").write_text(_corrupt(HAND_HR, lineno, new))
    with pytest.raises(ModelError, match=match):
        read_hr_dat(tmp_path / "bad_hr.dat", np.eye(3))


def test_malformed_hr_dat_other_errors(tmp_path):
    (tmp_path / "extra_hr.dat").write_text(HAND_HR + "    1    0    0    1    1    0.1    0.0\n")
    with pytest.raises(ModelError, match="line 17: unexpected data"):
        read_hr_dat(tmp_path / "extra_hr.dat", np.eye(3))
    shifted = re.sub(r"^   -1    0    0", "   -1    0    1", HAND_HR, flags=re.MULTILINE)
    (tmp_path / "x_hr.dat").write_text(re.sub(r"^    1    0    0", "    1    0   -1", shifted, flags=re.MULTILINE))
    with pytest.raises(ModelError, match=r"R3 != 0"):
        read_hr_dat(tmp_path / "x_hr.dat", np.eye(2))
    with pytest.raises(ModelError, match=r"shape \(2, 2\) do not fit dim=3"):
        read_hr_dat(tmp_path / "x_hr.dat", np.eye(2), dim=3)
    with pytest.raises(ModelError, match="only TightBinding"):
        write_hr_dat(Rashba(1.0, 0.1), tmp_path / "r_hr.dat")


@pytest.mark.parametrize(
    "lineno, new, match",
    [
        (3, " 0.0 2.0", r"line 3: expected lattice vector a_2 \(3 numbers\)"),
        (4, " 0.0 1.0 3.0", None),  # not planar: fine in 3D, error for dim=2
        (9, "    0    0", r"line 9: expected 'R1 R2 R3' after a blank line"),
        (21, "    0    0    0", r"line 21: R=\(0, 0, 0\) appears in two blocks"),
        (27, "    0    0    0", r"line 27: position block 1 is for R=\(0, 0, 0\)"),
        (35, "    2    1  0.0 0.0 0.0 0.0 0.0", r"line 35: expected .*\(8 numbers\), got 7 fields"),
        (40, None, "file ends after line 39"),
    ],
)
def test_malformed_tb_dat_names_the_line(tmp_path, lineno, new, match):
    (tmp_path / "bad_tb.dat").write_text(_corrupt(HAND_TB, lineno, new))
    if match is None:
        read_tb_dat(tmp_path / "bad_tb.dat")
        with pytest.raises(ModelError, match="dim=2 needs a1, a2 in the xy plane"):
            read_tb_dat(tmp_path / "bad_tb.dat", dim=2)
        return
    with pytest.raises(ModelError, match=match):
        read_tb_dat(tmp_path / "bad_tb.dat")
