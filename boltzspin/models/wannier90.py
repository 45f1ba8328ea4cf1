r"""Read and write Wannier90 tight-binding files (``seedname_hr.dat``, ``seedname_tb.dat``).

Wannier90 stores :math:`H_{mn}(\mathbf R) = \langle m\mathbf 0|H|n\mathbf R\rangle` and
interpolates in **convention II** (no orbital positions in the phases),

.. math:: H^{W}_{mn}(\mathbf k) = \sum_{\mathbf R} \frac{e^{i\mathbf k\cdot\mathbf R}}{N_{\mathbf R}}
          H_{mn}(\mathbf R),

with :math:`N_{\mathbf R}` the Wigner-Seitz degeneracy (Mostofi et al., Comput.
Phys. Commun. 178, 685 (2008); Pizzi et al., J. Phys.: Condens. Matter 32,
165902 (2020)).  A :class:`~boltzspin.models.tight_binding.TightBinding` with table
:math:`t_{\mathbf R} = H(\mathbf R)/N_{\mathbf R}` and positions ``tau`` uses
convention I, :math:`H^{I}(\mathbf k) = U^\dagger H^{W}(\mathbf k) U` with
:math:`U = \mathrm{diag}(e^{i\mathbf k\cdot\boldsymbol\tau_m})`: **the same table, no
re-indexing of R**, unitarily equivalent at every k (identical bands), while
``dH/dk`` becomes the velocity in the diagonal-position (tight-binding)
approximation.  :func:`read_tb_dat` takes ``tau_m`` from the Wannier centres
:math:`\langle m\mathbf 0|\mathbf r|m\mathbf 0\rangle` (kept where they are, not
wrapped into the home cell); the off-diagonal position matrix elements (Berry
connection of the Wannier basis) are read but not used.  :func:`read_hr_dat`
has no positions (all zero unless given).  Files written with
``use_ws_distance = .true.`` need ``seedname_wsvec.dat`` for Wannier90's exact
interpolation; it is not read here (the model stays Hermitian and periodic, but
may differ slightly from Wannier90's bands).

Units are the file's: energies in eV, lengths (lattice, centres) in Angstrom,
so k is in 1/Angstrom.  Every format error names the file and the line number.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import ModelError
from .tight_binding import TightBinding

__all__ = ["read_hr_dat", "read_tb_dat", "write_hr_dat", "write_tb_dat"]

#: A file's H(-R) may differ from H(R)^dagger by this much (energy units of the
#: file, absolute + relative to max |H|): _hr.dat keeps 6 decimals.  Within it
#: the table is symmetrized, beyond it ModelError is raised.
READ_HERMITIAN_ATOL = 1e-5
READ_HERMITIAN_RTOL = 1e-7


class _Lines:
    """Line cursor over a text file producing errors with line numbers."""

    def __init__(self, path):
        self.path = os.fspath(path)
        with open(self.path) as f:
            self.lines = f.read().splitlines()
        self.i = 0

    def error(self, message, lineno=None):
        where = f"line {lineno}" if lineno is not None else f"line {self.i}"
        return ModelError(f"{self.path}, {where}: {message}")

    def next(self, what, skip_blank=False):
        while skip_blank and self.i < len(self.lines) and not self.lines[self.i].strip():
            self.i += 1
        if self.i >= len(self.lines):
            raise ModelError(f"{self.path}: file ends after line {len(self.lines)}, expected {what}; "
                             "the file is truncated")
        self.i += 1
        return self.i, self.lines[self.i - 1].split()

    def record(self, what, types, skip_blank=False):
        """The next line parsed as one value per type in ``types`` ('i' int, 'f' float)."""
        lineno, tokens = self.next(what, skip_blank)
        if len(tokens) != len(types):
            raise self.error(f"expected {what} ({len(types)} numbers), got {len(tokens)} fields", lineno)
        try:
            values = [int(t) if c == "i" else float(t.replace("D", "E").replace("d", "e"))
                      for t, c in zip(tokens, types)]
        except ValueError:
            raise self.error(f"expected {what}, could not parse {' '.join(tokens)!r} (integers for "
                             "counts, R and indices; real numbers for values)", lineno) from None
        if not np.all(np.isfinite(values)):
            raise self.error(f"NaN or inf in {' '.join(tokens)!r}; the file is corrupted", lineno)
        return values

    def count(self, what):
        (value,) = self.record(what, "i")
        if value < 1:
            raise self.error(f"{what} must be a positive integer, got {value}")
        return value

    def degeneracies(self, nrpts):
        out = []
        while len(out) < nrpts:
            lineno, tokens = self.next(f"{nrpts} Wigner-Seitz degeneracies")
            try:
                out.extend(int(t) for t in tokens)
            except ValueError:
                raise self.error(f"expected {nrpts} integer degeneracies (15 per line), got "
                                 f"{' '.join(tokens)!r}; is nrpts right?", lineno) from None
            if len(out) > nrpts or not tokens or min(int(t) for t in tokens) < 1:
                raise self.error(f"expected {nrpts} positive degeneracies (15 per line), "
                                 f"got {len(out)} so far: {' '.join(tokens)!r}", lineno)
        return out

    def end(self):
        for j in range(self.i, len(self.lines)):
            if self.lines[j].strip():
                raise self.error("unexpected data after the last block; is num_wann or nrpts wrong?", j + 1)


def _matrix_block(lines, n, r, n_complex, what):
    """Read the n^2 lines ``m n Re Im ...`` (n_complex pairs) of one R block, each (m, n) once."""
    block = np.zeros((n_complex, n, n), dtype=complex)
    seen = np.zeros((n, n), dtype=bool)
    for _ in range(n * n):
        values = lines.record(what, "ii" + "ff" * n_complex)
        lineno = lines.i
        m, c = values[0] - 1, values[1] - 1
        if not (0 <= m < n and 0 <= c < n):
            raise lines.error(f"orbital indices ({m + 1}, {c + 1}) outside 1..{n} (num_wann)", lineno)
        if seen[m, c]:
            raise lines.error(f"element ({m + 1}, {c + 1}) of R={r} appears twice", lineno)
        seen[m, c] = True
        vals = np.array(values[2:])
        block[:, m, c] = vals[0::2] + 1j * vals[1::2]
    return block


def _hr_entries(lines, n, nrpts, deg):
    """_hr.dat body: nrpts blocks of n^2 lines ``R1 R2 R3 m n Re Im``."""
    table = {}
    for b in range(nrpts):
        mat = np.zeros((n, n), dtype=complex)
        seen = np.zeros((n, n), dtype=bool)
        r = None
        for _ in range(n * n):
            v = lines.record("'R1 R2 R3 m n Re(H) Im(H)'", "iiiiiff")
            if r is None:
                r = tuple(v[:3])
                if r in table:
                    raise lines.error(f"R={r} appears in two blocks; each R once")
            elif tuple(v[:3]) != r:
                raise lines.error(f"R={tuple(v[:3])} inside the block of R={r}: expected num_wann^2 = "
                                  f"{n * n} lines per R")
            m, c = v[3] - 1, v[4] - 1
            if not (0 <= m < n and 0 <= c < n):
                raise lines.error(f"orbital indices ({m + 1}, {c + 1}) outside 1..{n} (num_wann)")
            if seen[m, c]:
                raise lines.error(f"element ({m + 1}, {c + 1}) of R={r} appears twice")
            seen[m, c] = True
            mat[m, c] = v[5] + 1j * v[6]
        table[r] = mat / deg[b]
    return table


def _symmetrize(table, path):
    scale = max(np.abs(t).max() for t in table.values())
    out = {}
    for r, t in table.items():
        minus = tuple(-x for x in r)
        partner = table.get(minus)
        if partner is None:
            partner = np.zeros_like(t)
        err = np.abs(partner - t.conj().T).max()
        if err > READ_HERMITIAN_ATOL + READ_HERMITIAN_RTOL * scale:
            raise ModelError(f"{path}: H(-R) != H(R)^dagger for R={r} (max mismatch {err:.3g}); the file "
                             "is not a Hermitian Wannier90 Hamiltonian (missing -R block or corrupted values)")
        out[r] = 0.5 * (t + partner.conj().T)
        out.setdefault(minus, out[r].conj().T)
    return out


def _lattice(a, dim, where):
    a = np.asarray(a, dtype=float)
    dim = (a.shape[0] if a.ndim == 2 else 3) if dim is None else dim
    if dim not in (2, 3):
        raise ModelError(f"dim must be 2 or 3, got {dim!r}")
    if a.shape == (dim, dim):
        return a, dim
    if dim == 2 and a.shape == (3, 3):
        tol = 1e-12 * np.abs(a).max()
        if np.abs(a[:2, 2]).max() > tol or np.abs(a[2, :2]).max() > tol:
            raise ModelError(f"{where}: dim=2 needs a1, a2 in the xy plane and a3 along z, got {a.tolist()}")
        return a[:2, :2], 2
    raise ModelError(f"{where}: lattice_vectors of shape {a.shape} do not fit dim={dim}; pass a (3, 3) "
                     "array, or a (2, 2) array for dim=2 (rows a_i, Angstrom)")


def _project(table, dim, path):
    if dim == 3:
        return table
    bad = [r for r in table if r[2] != 0]
    if bad:
        raise ModelError(f"{path}: dim=2 but the file has hoppings with R3 != 0 (e.g. R={bad[0]}); "
                         "read it as a 3D model (a (3, 3) lattice and dim=None)")
    return {r[:2]: t for r, t in table.items()}


def read_hr_dat(path, lattice_vectors, operators=None, dim=None, positions=None):
    """Read ``seedname_hr.dat`` into a :class:`TightBinding` (convention II unless ``positions``).

    Parameters
    ----------
    path : path-like
        The file: comment, num_wann, nrpts, degeneracies (15 per line), then
        nrpts * num_wann^2 lines ``R1 R2 R3 m n Re(H) Im(H)`` (1-based m, n).
    lattice_vectors : array
        Rows a_i (Angstrom; hr.dat has none): (3, 3), or (2, 2) / planar (3, 3) with ``dim=2``.
    operators : dict, optional
        Named Hermitian ``(num_wann, num_wann)`` observables.
    dim : {None, 2, 3}
        2 for a 2D model: every R3 must then be 0.  Default: from ``lattice_vectors``.
    positions : (num_wann, dim) array, optional
        Fractional Wannier centres to put into the phases (convention I).

    Returns
    -------
    TightBinding
        Table ``t_R = H(R) / N_R``; energies stay in the file's units (eV).
    """
    lines = _Lines(path)
    a, dim = _lattice(lattice_vectors, dim, lines.path)
    lines.next("a comment line")
    n = lines.count("num_wann")
    nrpts = lines.count("nrpts")
    deg = lines.degeneracies(nrpts)
    table = _hr_entries(lines, n, nrpts, deg)
    lines.end()
    table = _project(_symmetrize(table, lines.path), dim, lines.path)
    return TightBinding(a, table, positions, operators, name=os.path.basename(lines.path))


def read_tb_dat(path, operators=None, dim=None):
    """Read ``seedname_tb.dat`` into a :class:`TightBinding` with the Wannier centres as positions.

    Parameters
    ----------
    path : path-like
        The file: comment; a_1, a_2, a_3 (rows, Angstrom); num_wann; nrpts;
        degeneracies (15 per line); per R a blank line, ``R1 R2 R3`` and num_wann^2
        lines ``m n Re(H) Im(H)``; then the same blocks for ``<m0|r|nR>`` with lines
        ``m n Re(x) Im(x) Re(y) Im(y) Re(z) Im(z)`` (Angstrom).
    operators : dict, optional
        Named Hermitian ``(num_wann, num_wann)`` observables.
    dim : {None, 2, 3}
        2 for a 2D model (a1, a2 in the xy plane, a3 along z, every R3 = 0); default 3.

    Returns
    -------
    TightBinding
        Table ``t_R = H(R) / N_R`` (eV) and positions ``tau_m = Re <m0|r|m0> / N_0``
        in fractional coordinates (convention I, see the module docstring).
    """
    lines = _Lines(path)
    lines.next("a comment line")
    a3 = np.array([lines.record(f"lattice vector a_{i + 1}", "fff") for i in range(3)])
    a, dim = _lattice(a3, 3 if dim is None else dim, lines.path)
    n = lines.count("num_wann")
    nrpts = lines.count("nrpts")
    deg = lines.degeneracies(nrpts)
    table, order = {}, []
    for b in range(nrpts):
        r = tuple(lines.record("'R1 R2 R3' after a blank line", "iii", skip_blank=True))
        if r in table:
            raise lines.error(f"R={r} appears in two blocks; each R once")
        table[r] = _matrix_block(lines, n, r, 1, "'m n Re(H) Im(H)'")[0] / deg[b]
        order.append(r)
    centres = None
    for b in range(nrpts):
        r = tuple(lines.record("'R1 R2 R3' of a position block", "iii", skip_blank=True))
        if r != order[b]:
            raise lines.error(f"position block {b + 1} is for R={r} but Hamiltonian block {b + 1} is "
                              f"for R={order[b]}; blocks must come in the same order")
        block = _matrix_block(lines, n, r, 3, "'m n Re(x) Im(x) Re(y) Im(y) Re(z) Im(z)'")
        if r == (0, 0, 0):
            centres = np.real(np.diagonal(block, axis1=1, axis2=2)).T / deg[b]  # (n, 3) cartesian
    lines.end()
    if centres is None:
        raise ModelError(f"{lines.path}: no R = (0, 0, 0) block, so no Wannier centres; the file is incomplete")
    frac = centres @ np.linalg.inv(a3)
    table = _project(_symmetrize(table, lines.path), dim, lines.path)
    return TightBinding(a, table, frac[:, :dim], operators, name=os.path.basename(lines.path))


def _padded(model):
    if not isinstance(model, TightBinding):
        raise ModelError(f"only TightBinding models can be written as Wannier90 files, got {model!r}")
    d = model.dim
    a = np.eye(3)
    a[:d, :d] = model.lattice_vectors
    tau = np.zeros((model.n_bands, 3))
    tau[:, :d] = model.positions
    table = {tuple(r) + (0,) * (3 - d): t for r, t in sorted(model.hoppings.items())}
    return a, tau @ a, table


def _header(model, nrpts):
    lines = [f"written by boltzspin from {model!r}", f"{model.n_bands:12d}", f"{nrpts:12d}"]
    ones = ["    1"] * nrpts
    lines += ["".join(ones[i : i + 15]) for i in range(0, nrpts, 15)]
    return lines


def _num(z):
    return f"{z.real: .16e} {z.imag: .16e}"


def write_hr_dat(model, path):
    """Write a :class:`TightBinding` as ``seedname_hr.dat`` (degeneracies 1, full precision).

    2D models get R3 = 0.  hr.dat holds neither lattice nor positions: read it
    back with ``read_hr_dat(path, model.lattice_vectors, positions=model.positions)``.

    Parameters
    ----------
    model : TightBinding
        The model to write (energies in eV and lengths in Angstrom by convention).
    path : path-like
        The file to write (overwritten).

    Raises
    ------
    ModelError
        If ``model`` is not a :class:`~boltzspin.models.tight_binding.TightBinding`.
    """
    _, _, table = _padded(model)
    n = model.n_bands
    out = ["\n".join(_header(model, len(table)))]
    for r, t in table.items():
        out += [f"{r[0]:5d}{r[1]:5d}{r[2]:5d}{m + 1:5d}{c + 1:5d}  {_num(t[m, c])}" for c in range(n) for m in range(n)]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def write_tb_dat(model, path):
    """Write a :class:`TightBinding` as ``seedname_tb.dat`` (positions as Wannier centres).

    2D models are padded with a unit c-axis and R3 = 0; the position blocks
    hold the cartesian centres on the diagonal of R = 0 and zeros elsewhere.

    Parameters
    ----------
    model : TightBinding
        The model to write (energies in eV and lengths in Angstrom by convention).
    path : path-like
        The file to write (overwritten).

    Raises
    ------
    ModelError
        If ``model`` is not a :class:`~boltzspin.models.tight_binding.TightBinding`.
    """
    a, centres, table = _padded(model)
    n = model.n_bands
    header = _header(model, len(table))
    out = header[:1] + [" ".join(f"{x: .16e}" for x in row) for row in a] + header[1:]
    for r, t in table.items():
        out += ["", f"{r[0]:5d}{r[1]:5d}{r[2]:5d}"]
        out += [f"{m + 1:5d}{c + 1:5d}  {_num(t[m, c])}" for c in range(n) for m in range(n)]
    for r in table:
        out += ["", f"{r[0]:5d}{r[1]:5d}{r[2]:5d}"]
        for c in range(n):
            for m in range(n):
                x = centres[m] if (m == c and r == (0, 0, 0)) else np.zeros(3)
                out.append(f"{m + 1:5d}{c + 1:5d}  " + " ".join(_num(complex(v)) for v in x))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
