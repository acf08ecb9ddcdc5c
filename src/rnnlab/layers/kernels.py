"""Native (Numba) loops over time for the fast recurrent layers.

The input projection `x @ W_xh + b_h` is one large matrix product done by the
backend before these loops; here only the sequential part runs: per step one
small product with the recurrent kernel and the activation, fused. tanh uses
Eigen's float32 rational approximation (as XLA does), which the compiler
vectorises. Arrays are time-major and float32:

    xp:   (timesteps, batch, units)  projected inputs, bias included
    mask: (timesteps, batch)         1.0 where a step is real, 0.0 where padded
    hs:   (timesteps, batch, units)  state after each step (carried over padded steps)
"""

import numpy as np
from numba import njit

# Eigen's ptanh_float constants: clamp bound, then odd numerator / even denominator coefficients.
_TANH = np.array(
    [
        7.90531110763549805,
        -2.76076847742355e-16,
        2.00018790482477e-13,
        -8.60467152213735e-11,
        5.12229709037114e-08,
        1.48572235717979e-05,
        6.37261928875436e-04,
        4.89352455891786e-03,
        1.19825839466702e-06,
        1.18534705686654e-04,
        2.26843463243900e-03,
        4.89352518554385e-03,
    ],
    dtype=np.float32,
)


@njit(fastmath=True, error_model="numpy", cache=True)
def tanh_into(a, out):
    """out[:] = tanh(a[:]) for 1-D float32 arrays (vectorised rational approximation)."""
    hi = _TANH[0]
    lo = -hi
    a13, a11, a9, a7, a5, a3, a1 = _TANH[1], _TANH[2], _TANH[3], _TANH[4], _TANH[5], _TANH[6], _TANH[7]
    b6, b4, b2, b0 = _TANH[8], _TANH[9], _TANH[10], _TANH[11]
    for i in range(a.size):
        x = a[i]
        x = hi if x > hi else x
        x = lo if x < lo else x
        x2 = x * x
        p = x2 * a13 + a11
        p = x2 * p + a9
        p = x2 * p + a7
        p = x2 * p + a5
        p = x2 * p + a3
        p = x2 * p + a1
        q = x2 * b6 + b4
        q = x2 * q + b2
        q = x2 * q + b0
        out[i] = x * p / q


@njit(fastmath=True, error_model="numpy", cache=True)
def simple_forward(xp, recurrent_kernel, mask):
    """States of `h_t = tanh(xp_t + h_{t-1} @ U)`, carried over masked steps."""
    timesteps, batch, units = xp.shape
    hs = np.empty_like(xp)
    h = np.zeros((batch, units), np.float32)
    a = np.empty(batch * units, np.float32)
    new = np.empty(batch * units, np.float32)
    for t in range(timesteps):
        z = h @ recurrent_kernel
        for b in range(batch):
            for j in range(units):
                a[b * units + j] = z[b, j] + xp[t, b, j]
        tanh_into(a, new)
        for b in range(batch):
            m = mask[t, b]
            for j in range(units):
                h[b, j] = m * new[b * units + j] + (1.0 - m) * h[b, j]
        hs[t] = h
    return hs


@njit(fastmath=True, error_model="numpy", cache=True)
def simple_backward(d_hs, hs, recurrent_kernel, mask):
    """Gradient w.r.t. the projected inputs `xp`, given the gradient w.r.t. every state."""
    timesteps, batch, units = hs.shape
    d_xp = np.empty_like(hs)
    d_h = np.zeros((batch, units), np.float32)
    u_t = np.ascontiguousarray(recurrent_kernel.T)
    for t in range(timesteps - 1, -1, -1):
        for b in range(batch):
            m = mask[t, b]
            for j in range(units):
                g = d_hs[t, b, j] + d_h[b, j]
                d_xp[t, b, j] = m * g * (1.0 - hs[t, b, j] * hs[t, b, j])
                d_h[b, j] = (1.0 - m) * g  # a padded step passes its gradient straight back
        d_h += d_xp[t] @ u_t
    return d_xp
