"""The one njit policy of the project: cached compilation, no fastmath (bit-exactness), no silent object mode;
and the one parallelism policy: threads only for work large enough to pay for waking them."""
import contextlib
import sys

import numba
import numpy as np


def _load_array_registry_without_blas_probe():
    """Import numba.np.arraymath (which Numba's CPU target loads at the first call of any kernel) while SciPy's
    BLAS cannot be found, unless SciPy's linalg is already loaded. At import that module probes for a BLAS by
    importing scipy.linalg (about 0.15 s, a fifth of the smallest run) only to choose BLAS for 1-D float
    np.dot/np.vdot; archsim's kernels are integer and call neither. Functions that need BLAS (2-D float dot,
    matmul, linalg) still import SciPy when compiled."""
    name = "scipy.linalg.cython_blas"
    if "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    sys.modules[name] = None  # makes `import scipy.linalg.cython_blas` raise ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if sys.modules.get(name, 0) is None:
            del sys.modules[name]


_load_array_registry_without_blas_probe()

JIT_OPTIONS = dict(cache=True, fastmath=False, nogil=True)

# Below this many elementary operations (multiply-accumulates, pooled elements) a kernel call runs on the
# calling thread alone. 2**23 MACs take about 0.2 to 0.4 ms on one core of the 2-core development machine,
# against 10 to 50 us for a fork/join when the machine is quiet and up to milliseconds when another process
# holds the other core (the region waits for its slowest thread): a small call must never pay that.
PARALLEL_MIN_OPS = 1 << 23


def njit(*args, parallel=False, **kwargs):
    return numba.njit(*args, parallel=parallel, **JIT_OPTIONS, **kwargs)


def n_chunks(ops):
    """How many coarse pieces a call of `ops` elementary operations is split into: 1 (no parallel region at all)
    below PARALLEL_MIN_OPS, else one per Numba thread."""
    return 1 if ops < PARALLEL_MIN_OPS else numba.get_num_threads()


@contextlib.contextmanager
def threads(n):
    """Run a block with n Numba threads (at most NUMBA_NUM_THREADS), then restore the count."""
    before = numba.get_num_threads()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(before)


prange = numba.prange

CACHE_LINE_BYTES = 64


@njit
def aligned(shape, like):
    """An uninitialised C-contiguous array of like's type starting on a cache line (NumPy promises 16 bytes,
    Numba 32): a vector loop over rows that straddle cache lines runs at half speed or worse on this project's
    machines."""
    size = 1
    for s in shape:
        size *= s
    buf = np.empty(size * like.itemsize + CACHE_LINE_BYTES, np.uint8)
    at = -buf.ctypes.data % CACHE_LINE_BYTES
    return buf[at:at + size * like.itemsize].view(like.dtype).reshape(shape)


def aligned_empty(shape, dtype):
    """aligned() from Python."""
    return aligned(tuple(shape), np.empty(0, dtype))
