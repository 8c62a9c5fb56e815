"""The one njit policy of the project: cached compilation, no fastmath (bit-exactness), no silent object mode."""
import numba

JIT_OPTIONS = dict(cache=True, fastmath=False, nogil=True)


def njit(*args, parallel=False, **kwargs):
    return numba.njit(*args, parallel=parallel, **JIT_OPTIONS, **kwargs)


prange = numba.prange
