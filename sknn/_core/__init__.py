"""Pure numerics of sknn: activations, losses, network, optimizers, solvers.

Nothing here imports scikit-learn's estimator machinery; the estimators build
these pieces, call a solver's ``solve()`` once (:mod:`.solvers`) and copy the
result onto their fitted attributes.
"""
