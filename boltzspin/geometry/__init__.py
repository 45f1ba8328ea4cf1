"""Band geometry on the Fermi surface and in the Fermi sea: eigensystems, Berry
curvature, s-dipoles, Fermi sheets (rays or k-grids) and Fermi-sea quadrature.
"""
