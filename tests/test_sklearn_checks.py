"""scikit-learn's estimator checks on both estimators."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknn import MLPClassifierNN, MLPRegressorNN

ESTIMATORS = [
    MLPClassifierNN(max_iter=100, random_state=0),
    MLPRegressorNN(max_iter=100, random_state=0),
    MLPClassifierNN(solver="lbfgs", max_iter=100, random_state=0),
    MLPRegressorNN(solver="lbfgs", max_iter=100, random_state=0),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
