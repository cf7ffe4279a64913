"""Statistics and figures on plain arrays: no torch, no Qt, no database (DESIGN.md, the analysis room).

The lowest room of the house: ``models/`` (training logs, model cards), ``app/services`` and the faces
above may use it; it imports none of them. Every statistic comes from the field's libraries
(scikit-learn, scipy, statsmodels, krippendorff, cleanlab) and tests check it against them.
"""
