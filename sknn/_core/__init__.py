"""Pure numerics of sknn: activations, losses, network, optimizers, training loop.

Nothing here imports scikit-learn's estimator machinery; the estimators in
:mod:`sknn._estimators` build these pieces and call the loop.
"""
