"""sklearn's multinomial logistic regression, fitted on a dense block beside a sparse block.

Both our classifiers learn from a dense MiniLM embedding (384 numbers a row) next to sparse
character n-grams. Stacked into one CSR matrix, the dense block is 80 % of the stored values and
every product of L-BFGS walks it as sparse data: a product of both blocks took 56 ms, the same
products block by block 26 ms, and the two fits were about 20 s of a 63 s training.

:class:`DenseSparseFeatures` is that stacked matrix as far as sklearn's loss is concerned
(``X @ W`` and ``G @ X``), and :func:`fit_multinomial` runs sklearn's own L-BFGS path on it with
the arguments ``LogisticRegression.fit`` passes: the same objective, optimiser and stopping
rule, so the same model (a test compares the weights with sklearn's fit). sklearn is pinned by
Rasa (1.1.3); the private function it uses is checked by that test on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


class DenseSparseFeatures:
    """``[dense | sparse]`` without stacking: the products sklearn's loss takes, per block."""

    # numpy hands ``G @ X`` to :meth:`__rmatmul__` instead of making an object array of X.
    __array_ufunc__ = None
    dtype = np.dtype(np.float64)

    def __init__(self, dense: np.ndarray, sparse: sp.spmatrix) -> None:
        self.dense = np.ascontiguousarray(dense, dtype=np.float64)
        self.sparse = sp.csr_matrix(sparse, dtype=np.float64)
        if self.dense.shape[0] != self.sparse.shape[0]:
            raise ValueError("the dense and the sparse block need the same rows")
        self.width = self.dense.shape[1]
        self.shape = (self.dense.shape[0], self.width + self.sparse.shape[1])

    def __len__(self) -> int:
        return self.shape[0]

    def __matmul__(self, weights: np.ndarray) -> np.ndarray:
        return self.dense @ weights[: self.width] + self.sparse @ weights[self.width :]

    def __rmatmul__(self, rows: np.ndarray) -> np.ndarray:
        return np.hstack([rows @ self.dense, np.asarray(rows @ self.sparse)])

    def toarray(self) -> np.ndarray:
        return np.hstack([self.dense, self.sparse.toarray()])


@dataclass
class FittedLogistic:
    coef: np.ndarray  # [classes, features]
    intercept: np.ndarray  # [classes]
    classes: list[str]


def fit_multinomial(
    features: DenseSparseFeatures,
    labels: list[str],
    c: float,
    max_iter: int,
    random_state: int = 42,
    tol: float = 1e-4,
) -> FittedLogistic:
    """What ``LogisticRegression(C=c, max_iter=max_iter, class_weight="balanced",
    random_state=random_state, tol=tol).fit`` learns, for three or more classes."""
    from sklearn.linear_model._logistic import _logistic_regression_path

    targets = np.asarray(labels)
    if len(targets) != features.shape[0]:
        raise ValueError(f"{features.shape[0]} rows of features but {len(targets)} labels")
    classes = np.unique(targets)
    if len(classes) < 3:
        raise ValueError("fit_multinomial needs three or more classes (sklearn fits two as one)")
    coefs, _, _ = _logistic_regression_path(
        features,
        targets,
        pos_class=None,
        Cs=[c],
        fit_intercept=True,
        tol=tol,
        solver="lbfgs",
        multi_class="multinomial",
        max_iter=max_iter,
        class_weight="balanced",
        check_input=False,
        random_state=random_state,
        penalty="l2",
    )
    weights = np.asarray(coefs[0]).reshape(len(classes), features.shape[1] + 1)
    return FittedLogistic(
        coef=np.ascontiguousarray(weights[:, :-1]),
        intercept=np.ascontiguousarray(weights[:, -1]),
        classes=[str(label) for label in classes],
    )
