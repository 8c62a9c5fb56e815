"""Pooling over NHWC activation maps: max, or sum ('avgpool': the division by the window is folded into the
next layer's gain, so the result stays an exact integer). One thread unless the call is large (jit.n_chunks)."""
import numpy as np

from .jit import n_chunks, njit, prange


@njit
def _pool_items(a, kh, kw, stride, is_max, out, b0, b1):
    _, _, _, C = a.shape
    _, Ho, Wo, _ = out.shape
    for b in range(b0, b1):
        for oy in range(Ho):
            for ox in range(Wo):
                for c in range(C):
                    v = np.int64(0)
                    for i in range(kh):
                        for j in range(kw):
                            e = a[b, oy * stride + i, ox * stride + j, c]
                            if is_max:
                                if (i == 0 and j == 0) or e > v:
                                    v = e
                            else:
                                v += e
                    out[b, oy, ox, c] = v


@njit(parallel=True)
def _pool_parallel(a, kh, kw, stride, is_max, out, pieces):
    N = a.shape[0]
    for p in prange(pieces):
        _pool_items(a, kh, kw, stride, is_max, out, p * N // pieces, (p + 1) * N // pieces)


def pool2d(a, kh, kw, stride, is_max, out):
    """a: (N, H, W, C) int64; out: (N, Ho, Wo, C)."""
    pieces = min(n_chunks(out.size * kh * kw), a.shape[0])
    if pieces <= 1:
        _pool_items(a, kh, kw, stride, is_max, out, 0, a.shape[0])
    else:
        _pool_parallel(a, kh, kw, stride, is_max, out, pieces)
