"""fit_multinomial on [dense | sparse] learns what sklearn's LogisticRegression learns."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from bot.safety.block_logistic import DenseSparseFeatures, fit_multinomial


def _data(rows: int, classes: int, seed: int) -> tuple[np.ndarray, sp.csr_matrix, list[str]]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, rows)
    centres = rng.standard_normal((classes, 16))
    dense = centres[labels] / 3 + rng.standard_normal((rows, 16)) / 10
    sparse = sp.random(rows, 200, density=0.05, format="csr", random_state=seed)
    return dense, sparse, [f"intent_{label}" for label in labels]


def test_the_products_equal_those_of_the_stacked_matrix():
    dense, sparse, _ = _data(50, 3, 0)
    blocks = DenseSparseFeatures(dense, sparse)
    stacked = sp.hstack([sp.csr_matrix(dense), sparse]).tocsr()
    weights = np.random.default_rng(1).standard_normal((216, 4))
    rows = np.random.default_rng(2).standard_normal((4, 50))
    assert blocks.shape == stacked.shape
    assert np.allclose(blocks @ weights, stacked @ weights)
    assert np.allclose(rows @ blocks, rows @ stacked)


@pytest.mark.parametrize(("rows", "classes", "c", "seed"), [(120, 3, 4.0, 0), (300, 7, 10.0, 1),
                                                            (400, 12, 1.0, 2)])  # fmt: skip
def test_the_same_model_as_sklearn_on_the_stacked_blocks(rows, classes, c, seed):
    dense, sparse, labels = _data(rows, classes, seed)
    reference = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=42)
    reference.fit(sp.hstack([sp.csr_matrix(dense), sparse]).tocsr(), labels)
    fitted = fit_multinomial(DenseSparseFeatures(dense, sparse), labels, c, 3000)
    assert fitted.classes == list(reference.classes_)
    assert np.allclose(fitted.coef, reference.coef_, atol=1e-8)
    assert np.allclose(fitted.intercept, reference.intercept_, atol=1e-8)


def test_the_same_model_as_sklearn_with_unbalanced_classes_and_float32_embeddings():
    """Class weights matter here (480/90/30): an unweighted fit differs by far more."""
    dense, sparse, _ = _data(600, 3, 4)
    labels = ["general"] * 480 + ["clinical"] * 90 + ["urgent"] * 30
    dense = dense.astype(np.float32)
    reference = LogisticRegression(C=4.0, max_iter=5000, class_weight="balanced", random_state=42)
    reference.fit(sp.hstack([sp.csr_matrix(dense), sparse]).tocsr(), labels)
    fitted = fit_multinomial(DenseSparseFeatures(dense, sparse), labels, 4.0, 5000)
    # Equal to the optimiser's tolerance (the products are summed in another order).
    assert np.allclose(fitted.coef, reference.coef_, atol=1e-5)
    unweighted = LogisticRegression(C=4.0, max_iter=5000, random_state=42)
    unweighted.fit(sp.hstack([sp.csr_matrix(dense), sparse]).tocsr(), labels)
    assert np.abs(unweighted.coef_ - reference.coef_).max() > 0.01


def test_two_classes_and_mismatched_blocks_are_refused():
    dense, sparse, labels = _data(40, 2, 3)
    with pytest.raises(ValueError, match="three or more"):
        fit_multinomial(DenseSparseFeatures(dense, sparse), labels, 1.0, 100)
    with pytest.raises(ValueError, match="same rows"):
        DenseSparseFeatures(dense[:10], sparse)
    with pytest.raises(ValueError, match="labels"):
        fit_multinomial(DenseSparseFeatures(dense, sparse), labels[:-1] + ["c"] * 0, 1.0, 100)
