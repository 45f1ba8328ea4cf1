"""Band models: continuum k.p models, tight-binding models, Bogoliubov quasiparticles.

First stage of the pipeline (models -> geometry -> collisions -> responses -> studies).
"""
