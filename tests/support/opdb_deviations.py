"""Where neuronet and PyTorch's op_db part ways, each with its reason (read by test_opdb.py).

``DEVIATIONS``: samples of shared ops that do not match, and why. Three kinds:
- ``deliberate``: neuronet behaves differently on purpose (documented in ``docs/ops.md``); the
  test requires these samples to keep failing, so a fix must also delete the entry.
- ``precision``: PyTorch's float32 kernel is less accurate than neuronet's; the test compares
  neuronet's float32 result with PyTorch's float64 result instead (float32 tolerances).
- ``pending``: the fix belongs to another branch (named in the reason); the sample may pass or
  fail until that lands.

``ABSENT``: every op_db name neuronet does not share, grouped, with the reason for each group.
The test fails when an op_db name is neither shared nor listed, or a listed name is shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Deviation:
    op: str  # the OpInfo id: name, or name.variant
    kind: str  # 'deliberate', 'precision' or 'pending'
    reason: str
    match: Callable = field(default=lambda sample: True)  # which samples (all by default)
    dtypes: tuple = ("float64", "float32")


def _kwarg(name):
    return lambda sample: name in sample.kwargs


def _target_broadcasts(sample) -> bool:
    """gaussian_nll_loss: target neither the input's shape nor it with one size-1 dim."""
    shape = tuple(sample.input.shape)
    target = tuple(sample.args[0].shape)
    if target == shape:
        return False
    return not (len(target) == len(shape) and sum(t for s, t in zip(shape, target) if s != t) == 1)


_MEMORY_FORMAT = (
    "memory_format= is a layout hint neuronet (row-major NumPy storage) does not need; the "
    "dtype conversion methods in autograd/tensor.py (owned by the autograd branch, issue 13) do "
    "not accept the keyword"
)

DEVIATIONS = [
    *[
        Deviation(name, "pending", _MEMORY_FORMAT, _kwarg("memory_format"))
        for name in ("bool", "double", "float", "int", "long")
    ],
    Deviation(
        "to",
        "pending",
        "Tensor.to(other, non_blocking, copy, memory_format=...) (a tensor giving the dtype, then "
        "flags): .to belongs to the autograd branch (issue 13), which takes dtype and device forms",
        lambda sample: bool(sample.args) and hasattr(sample.args[0], "shape"),
    ),
    *[
        Deviation(
            name,
            "deliberate",
            "float16 and bfloat16 are not neuronet dtypes: .half() and .bfloat16() raise a "
            "TypeError that says so (autograd branch, issue 13; docs/pytorch.md)",
        )
        for name in ("half", "bfloat16")
    ],
    Deviation(
        "nn.functional.gaussian_nll_loss",
        "deliberate",
        "a target of another rank (e.g. (5, 5) for input (5, 5, 5), or 0-d) is refused instead "
        "of silently broadcast: losses never broadcast (docs/ops.md); PyTorch's documented "
        "shared-variance shapes (one size-1 dim) are accepted",
        _target_broadcasts,
    ),
    Deviation(
        "logcumsumexp",
        "precision",
        "the extreme-value sample (|x| = 1e4): PyTorch's float32 backward is 3e-3 from the float64 "
        "gradient; neuronet computes the running log-sums in float64 (2.5e-7 from it)",
        dtypes=("float32",),
    ),
    Deviation(
        "nn.functional.ctc_loss",
        "precision",
        "PyTorch's float32 CTC backward is 1e-4 from the float64 gradient over 50 time steps; "
        "neuronet runs the alpha/beta recursions in float64 (1e-7 from it)",
        dtypes=("float32",),
    ),
]


ABSENT = {
    "signal processing (FFT, STFT, windows) is out of scope (issue 19)": """fft.fft fft.fft2
        fft.fftn fft.fftshift fft.hfft fft.hfft2 fft.hfftn fft.ifft fft.ifft2 fft.ifftn
        fft.ifftshift fft.ihfft fft.ihfft2 fft.ihfftn fft.irfft fft.irfft2 fft.irfftn fft.rfft
        fft.rfft2 fft.rfftn stft istft signal.windows.bartlett signal.windows.blackman
        signal.windows.cosine signal.windows.exponential signal.windows.gaussian
        signal.windows.general_cosine signal.windows.general_hamming signal.windows.hamming
        signal.windows.hann signal.windows.kaiser signal.windows.nuttall""",
    "linear-algebra decompositions and solvers are out of scope (issue 19); neuronet has no "
    "linalg namespace (norms are norm(p=...), products are in ops/linalg.py)": """cholesky
        cholesky_inverse cholesky_solve geqrf ormqr lu lu_solve lu_unpack qr svd svd_lowrank
        pca_lowrank pinverse triangular_solve logdet matrix_exp linalg.cholesky
        linalg.cholesky_ex linalg.cond linalg.cross linalg.det linalg.diagonal linalg.eig
        linalg.eigh linalg.eigvals linalg.eigvalsh linalg.householder_product linalg.inv
        linalg.inv_ex linalg.ldl_factor linalg.ldl_factor_ex linalg.ldl_solve linalg.lstsq
        linalg.lu linalg.lu_factor linalg.lu_factor_ex linalg.lu_solve linalg.matrix_norm
        linalg.matrix_power linalg.matrix_rank linalg.multi_dot linalg.norm linalg.pinv linalg.qr
        linalg.slogdet linalg.solve linalg.solve_ex linalg.solve_triangular linalg.svd
        linalg.svdvals linalg.tensorinv linalg.tensorsolve linalg.vander linalg.vecdot
        linalg.vector_norm""",
    "special functions (gamma family, Bessel, orthogonal polynomials, erfc/erfinv) are out of "
    "scope (issue 19)": """digamma polygamma mvlgamma lgamma i0 igamma igammac erfc erfinv
        special.airy_ai special.bessel_j0 special.bessel_j1 special.bessel_y0 special.bessel_y1
        special.chebyshev_polynomial_t special.chebyshev_polynomial_u
        special.chebyshev_polynomial_v special.chebyshev_polynomial_w special.entr special.erfcx
        special.hermite_polynomial_h special.hermite_polynomial_he special.i0e special.i1
        special.i1e special.laguerre_polynomial_l special.legendre_polynomial_p special.log_ndtr
        special.modified_bessel_i0 special.modified_bessel_i1 special.modified_bessel_k0
        special.modified_bessel_k1 special.ndtr special.ndtri special.polygamma
        special.scaled_modified_bessel_k0 special.scaled_modified_bessel_k1
        special.shifted_chebyshev_polynomial_t special.shifted_chebyshev_polynomial_u
        special.shifted_chebyshev_polynomial_v special.shifted_chebyshev_polynomial_w
        special.spherical_bessel_j0 special.xlog1py special.zeta""",
    "complex numbers: neuronet tensors are real (float32/float64, int32/int64, bool)": """complex
        polar angle real imag view_as_real view_as_complex cfloat cdouble chalf conj_physical
        isreal sgn""",
    "dtypes neuronet does not have (uint8, int8, int16; float16 and bfloat16 are shared names "
    "that raise, see DEVIATIONS)": """byte char short""",
    "sparse and masked tensors are out of scope (issue 19)": """sparse.mm sparse.sampled_addmm
        to_sparse masked.amax masked.amin masked.argmax masked.argmin masked.cumprod
        masked.cumsum masked.log_softmax masked.logaddexp masked.logsumexp masked.mean
        masked.median masked.norm masked.normalize masked.prod masked.softmax masked.softmin
        masked.std masked.sum masked.var""",
    "memory layout and aliasing (strides, the *_copy twins of views, resize_): NumPy owns the "
    "memory and neuronet's views are NumPy's": """as_strided as_strided_copy as_strided_scatter
        alias_copy diagonal_copy expand_copy narrow_copy permute_copy squeeze_copy t_copy
        transpose_copy unbind_copy unfold_copy unsqueeze_copy view_copy split_with_sizes_copy
        resize_ resize_as_ empty_strided new_empty_strided empty_permuted unsafe_chunk
        unsafe_split nonzero_static""",
    "PyTorch internals (aten backends, CUDA jiterator, private ops)": """_batch_norm_with_update
        _chunk_cat _native_batch_norm_legit _segment_reduce _softmax_backward_data
        _unsafe_masked_index _unsafe_masked_index_put_accumulate _upsample_bilinear2d_aa
        torch._scaled_mm torch._scaled_mm_v2 torch.ops.aten._efficient_attention_forward
        torch.ops.aten._flash_attention_forward torch.ops.aten._safe_softmax.default
        jiterator_2inputs_2outputs jiterator_4inputs_with_extra_args jiterator_binary
        jiterator_binary_return_by_ref jiterator_unary hash_tensor native_batch_norm
        native_dropout_backward native_group_norm native_layer_norm
        max_pool2d_with_indices_backward grid_sampler_2d grid_sampler_3d constant_pad_nd
        scalar_tensor""",
    "bit-level and integer number theory (neuronet's integers index and count)": """bitwise_and
        bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift bitwise_xor gcd lcm
        __rand__ __ror__ __rxor__ ldexp frexp nextafter""",
    "random sampling beyond rand/randn/randint/randperm/dropout/rrelu, bernoulli, normal, "
    "multinomial and uniform_ (neuronet/sampling.py); the other distributions' samplers are not "
    "written": """exponential cauchy geometric log_normal
        nn.functional.dropout3d nn.functional.feature_alpha_dropout
        nn.functional.fractional_max_pool2d nn.functional.fractional_max_pool3d""",
    "not in issue 19's list (statistics, numerical integration, scatter variants and less "
    "common tensor utilities); candidates for a later issue": """cartesian_prod combinations
        corrcoef cov cross cumulative_trapezoid trapezoid trapz deg2rad rad2deg dist fill zero_
        float_power fmax fmin gradient histogram histogramdd index_reduce renorm rsub
        select_scatter slice_scatter diagonal_scatter slice split_with_sizes sum_to_size
        unravel_index sinc nn.functional.multi_head_attention_forward
        nn.functional.linear_cross_entropy""",
}


def absent_names() -> dict:
    """{op_db name: reason} for every name in ``ABSENT``."""
    out = {}
    for reason, names in ABSENT.items():
        for name in names.split():
            out[name] = reason
    return out
