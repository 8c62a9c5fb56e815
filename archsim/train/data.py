"""Datasets that ship with installed packages (nothing is downloaded): scikit-learn's 8x8 digits with a fixed,
seeded, stratified split; or a user's .npz of x (items x features) and y (labels). Inputs are quantised to
unsigned `bits`-bit integers."""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ArchsimError, ConfigError
from ..inputs import load_npz


@dataclass
class Dataset:
    name: str
    x_train: np.ndarray  # float in [0, 1]
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def classes(self):
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def _split(x, y, test_fraction, seed):
    """Stratified: the same fraction of every class goes to the test set, chosen by a seeded permutation."""
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        test[rng.permutation(idx)[:int(round(test_fraction * len(idx)))]] = True
    return x[~test], y[~test], x[test], y[test]


def digits(test_fraction=0.2, seed=0):
    """scikit-learn's 1,797 8x8 digits (pixel values 0..16), scaled to [0, 1]; 1,437 train / 360 test."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ArchsimError("the digits dataset needs scikit-learn: pip install 'archsim[train]'") from None
    d = load_digits()
    return Dataset("digits", *_split(d.data / 16.0, d.target.astype(np.int64), test_fraction, seed))


def from_npz(path, test_fraction=0.2, seed=0):
    """A user's .npz with x (items x features, any real range, scaled to [0, 1] by its min and max) and y."""
    npz = load_npz(path, field="--data")  # the input boundary: no pickles, corrupt archives named
    missing = [k for k in ("x", "y") if k not in npz.files]
    if missing:
        raise ConfigError(path, [f"lacks array(s) {missing}; it holds {list(npz.files)}"])
    if not all(np.issubdtype(npz.headers[k][0], np.number) for k in ("x", "y")) or not np.prod(npz.headers["y"][1]):
        raise ConfigError(path, ["x and y must be numeric arrays with at least one item"])
    x, y = np.asarray(npz["x"], float), np.asarray(npz["y"])
    if x.ndim != 2 or y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer) or (y < 0).any():
        raise ConfigError(path, [f"x must be (items, features) and y (items,) non-negative integer labels; got "
                                 f"x {x.shape}, y {y.shape} {y.dtype}"])
    span = x.max() - x.min()
    x = (x - x.min()) / span if span > 0 else np.zeros_like(x)
    return Dataset(Path(path).stem, *_split(x, y.astype(np.int64), test_fraction, seed))


def load(name, **kw):
    return digits(**kw) if name == "digits" else from_npz(name, **kw)


def quantize_inputs(x, bits):
    """[0, 1] reals -> unsigned integers 0 .. 2**bits - 1."""
    return np.rint(np.clip(x, 0, 1) * (2 ** bits - 1)).astype(np.int64)
