"""Pooling over NHWC activation maps: max, or sum ('avgpool': the division by the window is folded into the
next layer's gain, so the result stays an exact integer)."""
import numpy as np

from .jit import njit, prange


@njit(parallel=True)
def pool2d(a, kh, kw, stride, is_max, out):
    """a: (N, H, W, C) int64; out: (N, Ho, Wo, C)."""
    N, _, _, C = a.shape
    _, Ho, Wo, _ = out.shape
    for b in prange(N):
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
