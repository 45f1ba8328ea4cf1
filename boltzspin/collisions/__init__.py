"""Disorder species, collision operators on the Fermi surface and the linearized
Boltzmann equation they define.
"""
