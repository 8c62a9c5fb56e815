"""The one njit policy of the project: cached compilation, no fastmath (bit-exactness), no silent object mode;
and the one parallelism policy: threads only for work large enough to pay for waking them."""
import contextlib

import numba

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
