"""Responses assembled from the geometry and the collision operators: the conserved
s-current (transport), equilibrium currents and magnetizations, thermal Hall.
"""
