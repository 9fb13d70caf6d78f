"""Findings: the doctor's fixed vocabulary of codes, and how findings are ranked.

Every problem the doctor can report has a *code* (``data.non_finite``, ``lr.too_high``, ...)
documented in ``docs/doctor.md``. ``CODES`` holds, per code, its default severity, what it
means, the default prescription, and the codes that can *cause* it (``causes``).

Ranking, "most likely cause first" (``rank``):

1. *Effective severity*: a finding takes the highest severity among itself and every finding it
   explains (directly or through a chain). Unscaled inputs are a warning on their own, but when
   they come with a model that cannot even overfit one batch (an error), they are the likely
   reason for it and rank as an error.
2. *Root causes before symptoms*: findings are ordered by their depth, the longest chain of
   present findings that could explain them (0 for a root cause), so a symptom comes after
   whatever explains it, and a symptom of a symptom after both.
3. *Causal order* (``ORDER``): data problems explain loss problems, which explain loop bugs,
   activations and gradients, which explain the learning rate's behaviour and the loss curve.
4. *Strength of evidence*: how far past its threshold the measurement is (``Finding.strength``,
   in orders of magnitude or standard errors, as each check defines it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITIES = ("error", "warning", "info")
_LEVEL = {"error": 2, "warning": 1, "info": 0}


@dataclass(frozen=True)
class Code:
    """One entry of the vocabulary."""

    code: str
    severity: str
    meaning: str
    prescription: str
    causes: tuple = ()


_DATA = ("data.non_finite", "data.unscaled_inputs", "data.label_out_of_range")
_WIRING = ("loss.broadcast", "loss.mismatch", "loss.double_softmax", "shape.mismatch")
_SCALE = ("data.unscaled_inputs", "data.unscaled_targets")
_LOOP = ("opt.missing_zero_grad",)
_ACT = ("act.saturated", "act.dead_relu")
_TRAINING_CAUSES = (
    _DATA
    + _WIRING
    + _LOOP
    + ("data.unscaled_targets", "data.no_signal", "data.single_class", "opt.params_not_updated")
)

_ENTRIES = [
    Code(
        "data.non_finite",
        "error",
        "inputs or targets contain NaN or Inf (the rows are listed)",
        "drop or impute those rows (e.g. replace NaN with the feature's mean) before training",
    ),
    Code(
        "data.label_out_of_range",
        "error",
        "a class label is negative or not below the model's number of outputs",
        "make labels 0..C-1 (remap them), or give the last layer as many outputs as classes",
    ),
    Code(
        "data.single_class",
        "error",
        "every training label is the same class: there is nothing to learn",
        "check the label column and how the data was filtered or split",
    ),
    Code(
        "data.unscaled_inputs",
        "warning",
        "input features are far from unit scale, or on very different scales",
        "standardise each feature (subtract the mean, divide by the std of the training set), "
        "e.g. transforms.Normalize, or divide pixels by 255",
    ),
    Code(
        "data.unscaled_targets",
        "warning",
        "regression targets are far from unit scale",
        "standardise the targets (subtract the mean, divide by the std) and undo it on predictions",
    ),
    Code(
        "data.no_signal",
        "error",
        "the model can memorise a batch but stays at chance on held-out data: the labels look "
        "unrelated to the inputs",
        "check that inputs and labels are aligned (same order after shuffling, joins, or "
        "augmentation) and that the right label column is used",
    ),
    Code(
        "data.split_overlap",
        "warning",
        "samples of the validation set also appear in the training set",
        "deduplicate before splitting, or split by a group key (user, patient, document)",
    ),
    Code(
        "data.class_imbalance",
        "warning",
        "some classes are much rarer than others",
        "report balanced metrics (per-class recall, F1); weight the loss "
        "(cross_entropy(weight=...)) or resample if rare classes matter",
    ),
    Code(
        "shape.mismatch",
        "error",
        "the model cannot process a batch of this data",
        "make the first layer's input size match the data (see the error's shapes)",
    ),
    Code(
        "loss.broadcast",
        "error",
        "the model's output and the target have different shapes that broadcast in the loss: "
        "every output is compared with every target",
        "make the shapes equal: output.squeeze(-1) or target.reshape(output.shape)",
        causes=("shape.mismatch",),
    ),
    Code(
        "loss.mismatch",
        "error",
        "the loss does not fit the targets (e.g. MSE on class indices, cross-entropy on "
        "continuous values, NLL on raw logits)",
        "use cross_entropy for class indices, mse/l1/huber for continuous targets, "
        "binary_cross_entropy_with_logits for 0/1 targets",
    ),
    Code(
        "loss.double_softmax",
        "error",
        "the model outputs probabilities (softmax/sigmoid) but the loss applies softmax/sigmoid "
        "itself: gradients shrink and training crawls",
        "remove the final Softmax/Sigmoid layer and feed logits to the loss (apply softmax "
        "only at prediction time)",
    ),
    Code(
        "opt.params_not_updated",
        "error",
        "parameters that require grad never change (not in the optimizer, or no gradient "
        "reaches them)",
        "build the optimizer from model.parameters() after the whole model exists; check for "
        ".detach(), .array/.numpy() round trips or no_grad in forward",
        causes=("act.dead_relu", "act.saturated", "shape.mismatch", "grad.vanishing", "lr.too_low"),
    ),
    Code(
        "opt.missing_zero_grad",
        "error",
        "gradients accumulate across optimizer steps: zero_grad is never called",
        "call optimizer.zero_grad() once per step (before backward or after step)",
    ),
    Code(
        "train.eval_in_train_mode",
        "warning",
        "the model was evaluated (forward without gradients) in training mode with dropout or "
        "BatchNorm active: metrics are noisy and BatchNorm statistics absorb validation data",
        "call model.eval() before evaluating and model.train() before training again",
    ),
    Code(
        "norm.batch_of_one",
        "error",
        "BatchNorm received a batch of one sample in training mode: its statistics are "
        "meaningless (and BatchNorm1d cannot normalise at all)",
        "use drop_last=True in the DataLoader or a batch size that does not leave one sample "
        "over; for single-sample training use LayerNorm/GroupNorm",
    ),
    Code(
        "numerics.non_finite",
        "error",
        "an op produced NaN or Inf (the op, module and phase are named)",
        "clamp before log/sqrt/division, use the fused stable losses on logits, lower the "
        "learning rate or clip gradients",
        causes=_DATA
        + _SCALE
        + _LOOP
        + ("lr.too_high", "grad.exploding", "init.bad_initial_loss", "norm.batch_of_one"),
    ),
    Code(
        "act.saturated",
        "warning",
        "most sigmoid/tanh outputs sit in the flat tails, where the derivative is near zero",
        "scale inputs, use a smaller initialisation (xavier_uniform_), add normalisation before "
        "the activation, or switch to ReLU/GELU",
        causes=_SCALE + ("lr.too_high",),
    ),
    Code(
        "act.dead_relu",
        "warning",
        "many ReLU units output zero for every sample: they pass no gradient and never recover",
        "lower the learning rate, use He initialisation (kaiming_normal_), LeakyReLU/GELU, or "
        "normalisation before the ReLU; check for large negative biases",
        causes=_SCALE + ("lr.too_high", "opt.missing_zero_grad"),
    ),
    Code(
        "grad.exploding",
        "warning",
        "gradients grow by orders of magnitude through the layers (or spike during training)",
        "clip gradients (clip_grad_norm_ / grad_clip=1.0), use a variance-preserving "
        "initialisation (kaiming/xavier), add normalisation or residual connections",
        causes=_SCALE + _LOOP + ("data.non_finite",),
    ),
    Code(
        "grad.vanishing",
        "warning",
        "gradients shrink by orders of magnitude from the last layers to the first: early "
        "layers barely learn",
        "use ReLU/GELU instead of sigmoid/tanh in deep stacks, He/Xavier initialisation, "
        "normalisation or residual connections (or an adaptive optimizer such as Adam)",
        causes=_SCALE + _ACT + ("loss.double_softmax",),
    ),
    Code(
        "init.bad_initial_loss",
        "warning",
        "the loss at initialisation is far above what an uninformed model should give "
        "(ln C for C classes)",
        "initialise the last layer smaller (or its bias to the log class priors), scale the "
        "inputs, check the loss's reduction",
        causes=_DATA + _SCALE + ("grad.exploding", "loss.mismatch", "loss.broadcast"),
    ),
    Code(
        "lr.too_high",
        "warning",
        "the learning rate is past the point where the loss stops falling in a range test",
        "use the suggested learning rate (the report gives it), or warm up to it",
        causes=_DATA
        + _SCALE
        + _WIRING
        + _LOOP
        + ("data.no_signal", "grad.exploding", "init.bad_initial_loss"),
    ),
    Code(
        "lr.too_low",
        "warning",
        "the learning rate is far below where the loss starts to fall in a range test",
        "raise the learning rate towards the suggested one",
        causes=_DATA
        + _SCALE
        + _WIRING
        + _ACT
        + ("data.no_signal", "grad.vanishing", "init.bad_initial_loss"),
    ),
    Code(
        "lr.suggestion",
        "info",
        "the learning-rate range test's suggested rate (for reference)",
        "try the suggested rate",
    ),
    Code(
        "train.cannot_overfit",
        "error",
        "the model cannot drive the loss on one small batch near zero: the bug is in the "
        "model, the loss or the data",
        "simplify until it can: check the loss wiring and labels, remove regularisation, add "
        "capacity, make sure every layer is connected",
        causes=_TRAINING_CAUSES
        + _ACT
        + ("grad.vanishing", "grad.exploding", "numerics.non_finite", "init.bad_initial_loss"),
    ),
    Code(
        "train.diverging",
        "error",
        "the training loss grows (or becomes NaN/Inf)",
        "lower the learning rate (by 3-10x), clip gradients, check the schedule",
        causes=_TRAINING_CAUSES
        + _ACT
        + ("lr.too_high", "grad.exploding", "numerics.non_finite", "init.bad_initial_loss"),
    ),
    Code(
        "train.oscillating",
        "warning",
        "the training loss jumps up and down from step to step without settling",
        "lower the learning rate, raise the batch size, or add momentum/Adam",
        causes=_TRAINING_CAUSES + ("lr.too_high", "grad.exploding", "numerics.non_finite"),
    ),
    Code(
        "train.stuck",
        "warning",
        "the training loss does not decrease beyond its noise",
        "raise the learning rate, check weight decay and the optimizer's parameter list, "
        "check activations and initialisation",
        causes=_TRAINING_CAUSES
        + _ACT
        + (
            "lr.too_low",
            "lr.too_high",
            "grad.vanishing",
            "train.cannot_overfit",
            "numerics.non_finite",
            "init.bad_initial_loss",
            "loss.double_softmax",
        ),
    ),
    Code(
        "train.overfitting",
        "warning",
        "the validation loss rises while the training loss keeps falling",
        "add data or augmentation, regularise (dropout, weight decay), use a smaller model, "
        "or stop early (EarlyStopping)",
        causes=("data.no_signal", "data.split_overlap"),
    ),
]

CODES: dict[str, Code] = {c.code: c for c in _ENTRIES}

# Causal order: earlier codes explain later ones (ties in rank go to the earlier code).
ORDER = [c.code for c in _ENTRIES]
_POSITION = {code: i for i, code in enumerate(ORDER)}


@dataclass
class Finding:
    """One problem the doctor found.

    Attributes:
        code: a code of the vocabulary (``CODES``), e.g. ``'lr.too_high'``.
        severity: 'error', 'warning' or 'info'.
        module: dotted path of the module concerned (e.g. ``'encoder.2.attn'``), or None.
        message: the symptom, with the numbers behind it.
        prescription: what to change, concretely.
        evidence: the measured values (JSON-able).
        strength: how far past its threshold the measurement is (for ranking; >= 0).
        causes: the codes that could explain this finding (default: the vocabulary's).
        can_explain: False for a finding that is only a symptom here (gradient spikes during a
            run are the rate's doing, never the reason the range test disliked the rate).
        explains: the codes of the other findings of the report it may explain (set when the
            report ranks its findings).
    """

    code: str
    severity: str
    message: str
    module: str | None = None
    prescription: str = ""
    evidence: dict = field(default_factory=dict)
    strength: float = 1.0
    causes: tuple | None = None
    can_explain: bool = True
    explains: list = field(default_factory=list)  # set by rank(): the findings it explains

    def __post_init__(self):
        if self.code not in CODES:
            raise ValueError(f"unknown doctor code {self.code!r}; known codes: {ORDER}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        if not self.prescription:
            self.prescription = CODES[self.code].prescription
        if self.causes is None:
            self.causes = CODES[self.code].causes

    def __str__(self) -> str:
        where = f" [{self.module}]" if self.module else ""
        return f"{self.severity} {self.code}{where}: {self.message} (fix: {self.prescription})"

    def to_markdown(self) -> str:
        """One line of Markdown (the TensorBoard logger writes findings this way)."""
        where = f" `{self.module}`" if self.module else ""
        return (
            f"**{self.severity}** `{self.code}`{where}: {self.message}. *Fix:* {self.prescription}"
        )

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "module": self.module,
            "message": self.message,
            "prescription": self.prescription,
            "evidence": self.evidence,
            "explains": self.explains,
        }


def finding(code: str, message: str, severity: str | None = None, **kwargs) -> Finding:
    """A ``Finding`` with the code's default severity unless one is given."""
    return Finding(code, severity or CODES[code].severity, message, **kwargs)


class Collector:
    """Collects findings through ``add(code, message, **kwargs)`` (as ``Exam.add``)."""

    def __init__(self):
        self.findings = []

    def add(self, code: str, message: str, **kwargs) -> Finding:
        f = finding(code, message, **kwargs)
        self.findings.append(f)
        return f


def level(severity: str) -> int:
    """2 for 'error', 1 for 'warning', 0 for 'info'."""
    if severity not in _LEVEL:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    return _LEVEL[severity]


def rank(findings: list) -> list:
    """The findings, most likely cause first (see the module docstring), one per (code, module)."""
    unique = {}
    for f in findings:  # of duplicates, keep a cause over a symptom, then the worse, stronger
        key = (f.code, f.module)
        merit = (f.can_explain, level(f.severity), f.strength)
        if key not in unique or merit > (
            unique[key].can_explain,
            level(unique[key].severity),
            unique[key].strength,
        ):
            unique[key] = f
    items = list(unique.values())
    # explainers[f]: the present findings that could cause f
    explainers = {
        id(f): [g for g in items if g is not f and g.can_explain and g.code in f.causes]
        for f in items
    }
    effective = {id(f): level(f.severity) for f in items}
    for _ in range(len(items)):  # propagate severity up the explanation chains
        changed = False
        for f in items:
            for g in explainers[id(f)]:
                if effective[id(f)] > effective[id(g)]:
                    effective[id(g)] = effective[id(f)]
                    changed = True
        if not changed:
            break

    # depth: the longest chain of present explanations above a finding (0 for a root cause)
    depth = {id(f): 0 for f in items}
    for _ in range(len(items)):
        changed = False
        for f in items:
            deepest = max((depth[id(g)] + 1 for g in explainers[id(f)]), default=0)
            deepest = min(deepest, len(items))  # a cycle (narrowed causes) cannot grow forever
            if deepest > depth[id(f)]:
                depth[id(f)] = deepest
                changed = True
        if not changed:
            break

    def key(f):
        return (-effective[id(f)], depth[id(f)], _POSITION[f.code], -f.strength)

    ordered = sorted(items, key=key)
    for g in ordered:
        g.explains = [f.code for f in ordered if g in explainers[id(f)]]
    return ordered
