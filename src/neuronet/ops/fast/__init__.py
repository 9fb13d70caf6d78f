"""The fast paths of the ops: alternative implementations with their reference's contract.

Every op family has its reference ``Function`` in ``neuronet/ops/<family>.py`` (NumPy, forward
and backward side by side, the formula in the docstring). Some have faster implementations here,
each a subclass of its reference with the same ``forward`` arguments and the same outputs (so an
exporter maps it as its reference), chosen in one visible place, the op's public function, by
``neuronet.backend.fast``:

    reference (ops/)                     fast path (ops/fast/)                   when
    conv.Convolution                     winograd.WinogradConvolution            numba, 3x3 stride 1
                                         direct.DirectConvolution                numba, stride 1,
                                                                                   O <= 16 (32)
                                         conv.CompiledChunkedConvolution         numba
                                         conv.ChunkedConvolution                 fast on
    conv.TransposedConvolution           conv.ChunkedTransposedConvolution       fast on
                                         (its Compiled* subclass)                numba
    attention.ScaledDotProductAttention  attention.BlockCausalAttention          numba, causal
                                         attention.CompiledTransposedAttention   numba
                                         attention.TransposedAttention           fast on
    activation.ReLU, GELU                activation.CompiledReLU, CompiledGELU   numba
    normalization.LayerNorm, RMSNorm,    normalization.CompiledLayerNorm, ...    numba
      GroupNorm
    batch_norm.BatchNorm,                batch_norm.CompiledBatchNorm,           numba
      FixedBatchNorm                       CompiledFixedBatchNorm
    embedding.Embedding                  embedding.CompiledEmbedding             numba
    pooling.MaxPool                      pooling.CompiledMaxPool                 numba, blocks
    lstm.LSTMSequence, gru.GRUSequence   recurrent.CompiledLSTMSequence, ...     numba
    loss.BinaryCrossEntropyWithLogits    loss.CompiledBinaryCrossEntropyWithLogits  numba

The ``*_kernels.py`` modules hold the numba kernels (``jit.kernel``: compiled on first use,
cached on disk); ``fastmath.py`` the vectorisable exp, sigmoid, tanh and softplus they use. They
import numba, so the Functions import them inside the code that calls them: ``import neuronet``
never loads numba. ``blas_batch.py`` runs the Winograd convolution's stacks of products through
OpenBLAS's batched GEMM where that is known to be safe. The op registry's tests run every op on
the reference and on each fast path and assert they agree on the same inputs
(``tests/ops/test_paths.py``).
"""


def reference_of(fn: type) -> type:
    """The reference Function that ``fn`` implements: ``fn`` itself, or for a fast path (a
    class defined in ``neuronet.ops.fast``) its nearest base defined elsewhere. Tools that read
    the graph by op (the doctor, exporters, pictures) ask this instead of ``fn.__name__``."""
    for cls in fn.__mro__:
        if not cls.__module__.startswith("neuronet.ops.fast."):
            return cls
    return fn
