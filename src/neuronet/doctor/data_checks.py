"""Stage 1, the data: NaN/Inf rows, input scale, labels against the model's outputs, class
balance, duplicates between train and validation, and a picture of samples.

Thresholds (why, in docs/doctor.md):
- inputs are *unscaled* when their root-mean-square is above ``RMS_HIGH`` = 5 or below
  ``RMS_LOW`` = 0.01: default initialisers (Kaiming/Xavier/PyTorch's) assume unit-scale inputs, so
  pre-activations scale with the input's RMS; or when the largest per-feature standard deviation
  is more than ``SPREAD`` = 100 times the median one (one feature then dominates every dot
  product and the learning rate that suits it is wrong for the rest).
- classes are *imbalanced* when the largest class is ``IMBALANCE`` = 10 times the smallest (for one
  label per sample; per-token targets of a language model are Zipfian by nature).
- validation rows *overlap* the training set when identical inputs are found for more than
  ``OVERLAP`` = 1% of them (a few exact duplicates happen in real data sets).
"""

from __future__ import annotations

import numpy as np

RMS_HIGH = 5.0
RMS_LOW = 0.01
SPREAD = 100.0
IMBALANCE = 10.0
OVERLAP = 0.01
TARGET_RMS_HIGH = 10.0
_SHOW_ROWS = 20


def _nonfinite_rows(arrays) -> np.ndarray:
    bad = None
    for a in arrays:
        if a is None or a.dtype.kind not in "fc":
            continue
        rows = ~np.isfinite(a.reshape(len(a), -1)).all(axis=1)
        bad = rows if bad is None else bad | rows
    return np.zeros(0, np.int64) if bad is None else np.flatnonzero(bad)


def _feature_axes(x: np.ndarray) -> tuple:
    """Axes to reduce for per-feature statistics: (N, F) -> feature F; (N, C, H, W) -> channel C;
    (N, T, F) -> feature F (sequences)."""
    if x.ndim == 4 or (x.ndim == 3 and x.shape[1] in (1, 3, 4) and x.shape[2] > 4):
        return (0,) + tuple(range(2, x.ndim))  # channels
    return tuple(range(x.ndim - 1))  # the last axis is the feature


def check_scale(exam, stage, x: np.ndarray, position: int) -> None:
    if x.dtype.kind not in "fc" or x.size == 0:
        if x.dtype.kind in "iu":
            stage.lines.append(f"input {position}: integer values {x.min()}..{x.max()} (indices)")
        return
    finite = np.where(np.isfinite(x), x, 0).astype(np.float64)
    rms = float(np.sqrt(np.mean(finite**2)))
    axes = _feature_axes(finite)
    std = finite.std(axis=axes).reshape(-1)
    mean = finite.mean(axis=axes).reshape(-1)
    live = std[std > 0]
    spread = float(live.max() / np.median(live)) if live.size else 1.0
    stage.numbers[f"input{position}_rms"] = round(rms, 4)
    stage.numbers[f"input{position}_range"] = [float(finite.min()), float(finite.max())]
    stage.numbers[f"input{position}_feature_std_spread"] = round(spread, 2)
    stage.lines.append(
        f"input {position}: shape {tuple(x.shape[1:])}, "
        f"range {finite.min():.3g}..{finite.max():.3g}, "
        f"RMS {rms:.3g}, per-feature std {std.min():.2g}..{std.max():.2g} "
        f"(max/median {spread:.3g})"
    )
    evidence = {
        "rms": rms,
        "min": float(finite.min()),
        "max": float(finite.max()),
        "feature_std_max_over_median": spread,
    }
    if rms > RMS_HIGH or 0 < rms < RMS_LOW:
        ratio = rms if rms > RMS_HIGH else 1 / rms
        hint = (
            " (looks like raw pixels: divide by 255)"
            if finite.max() > 100 and finite.min() >= 0
            else ""
        )
        exam.add(
            "data.unscaled_inputs",
            f"input {position} has RMS {rms:.3g} ({finite.min():.3g}..{finite.max():.3g}): "
            f"{ratio:.0f}x away from the unit scale initialisers assume{hint}",
            evidence=evidence,
            strength=float(np.log10(ratio)),
        )
    elif spread > SPREAD:
        worst = int(np.argmax(std))
        exam.add(
            "data.unscaled_inputs",
            f"input {position}'s features are on very different scales: feature {worst} has std "
            f"{std[worst]:.3g} (mean {mean[worst]:.3g}), {spread:.0f}x the median feature's",
            evidence={**evidence, "worst_feature": worst},
            strength=float(np.log10(spread / SPREAD)) + 1.0,
        )


def check_labels(exam, stage, y: np.ndarray) -> None:
    task = exam.task
    if task.kind == "regression":
        rms = float(np.sqrt(np.mean(np.where(np.isfinite(y), y, 0).astype(np.float64) ** 2)))
        std = float(np.nanstd(y))
        stage.numbers["target_rms"] = round(rms, 4)
        stage.lines.append(f"targets: mean {np.nanmean(y):.3g}, std {std:.3g}, RMS {rms:.3g}")
        if rms > TARGET_RMS_HIGH or (0 < rms < RMS_LOW):
            exam.add(
                "data.unscaled_targets",
                f"regression targets have RMS {rms:.3g} (mean {np.nanmean(y):.3g}, std {std:.3g}): "
                "the output layer must grow its weights that far before the loss can fall",
                evidence={"rms": rms, "mean": float(np.nanmean(y)), "std": std},
                strength=float(abs(np.log10(rms))),
            )
        return
    if task.kind not in ("classification", "binary") or y.dtype.kind == "f" and y.ndim > 1:
        return
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            return
        y = y.astype(np.int64)
    labels = y.reshape(-1)
    ignored = labels == -100  # cross_entropy's default ignore_index
    labels = labels[~ignored]
    if labels.size == 0:
        return
    values, counts = np.unique(labels, return_counts=True)
    classes = task.num_classes
    stage.numbers["classes_present"] = int(values.size)
    stage.numbers["class_counts"] = {str(int(v)): int(c) for v, c in zip(values, counts)}
    stage.lines.append(
        f"labels: {values.size} classes present ({values.min()}..{values.max()}), "
        f"{counts.min()}..{counts.max()} samples per class"
        + (f"; the model has {classes} outputs" if classes else "")
    )
    limit = classes if task.kind == "classification" else 2
    if limit and (values.min() < 0 or values.max() >= limit):
        bad = values[(values < 0) | (values >= limit)]
        rows = np.flatnonzero(np.isin(y.reshape(len(y), -1), bad).any(axis=1))[:_SHOW_ROWS]
        exam.add(
            "data.label_out_of_range",
            f"labels {bad.tolist()[:10]} are outside 0..{limit - 1} (the model has {limit} "
            f"outputs); first rows: {rows.tolist()}",
            evidence={"bad_labels": bad.tolist()[:50], "outputs": limit, "rows": rows.tolist()},
            strength=2.0,
        )
    if values.size == 1:
        exam.add(
            "data.single_class",
            f"every one of the {labels.size} labels checked is {values[0]}",
            evidence={"label": int(values[0]), "rows": int(labels.size)},
            strength=3.0,
        )
        return
    ratio = counts.max() / counts.min()
    if ratio >= IMBALANCE and y.ndim == 1:  # per-token targets (language models) are Zipfian
        rare = values[np.argmin(counts)]
        exam.add(
            "data.class_imbalance",
            f"class {rare} has {counts.min()} samples, the largest class {counts.max()} "
            f"({ratio:.0f}x); a model predicting only the majority class scores "
            f"{counts.max() / counts.sum():.0%} accuracy",
            evidence={"ratio": float(ratio), "counts": stage.numbers["class_counts"]},
            strength=float(np.log10(ratio / IMBALANCE)) + 1.0,
        )


def _row_hashes(inputs) -> np.ndarray:
    x = np.ascontiguousarray(inputs[0].reshape(len(inputs[0]), -1))
    return np.array([hash(row.tobytes()) for row in x])


def check_overlap(exam, stage, gen) -> None:
    limit = exam.budget.data_rows
    train = exam.rows.sample(limit, gen)[0]
    val = exam.val.sample(limit, gen)[0]
    if train[0].dtype.kind not in "fiub":
        return
    seen = set(_row_hashes(train).tolist())
    hashes = _row_hashes(val)
    dup = np.array([h in seen for h in hashes.tolist()])
    fraction = float(dup.mean()) if dup.size else 0.0
    stage.numbers["val_rows_in_train"] = int(dup.sum())
    stage.lines.append(
        f"validation: {dup.sum()} of {dup.size} rows checked also appear in the training rows "
        f"checked ({fraction:.1%})"
    )
    if fraction > OVERLAP:
        exam.add(
            "data.split_overlap",
            f"{dup.sum()} of {dup.size} validation rows ({fraction:.0%}) are identical to "
            "training rows: validation scores overstate how well the model generalises",
            evidence={"fraction": fraction, "count": int(dup.sum()), "checked": int(dup.size)},
            strength=float(np.log10(fraction / OVERLAP)) + 1.0,
        )


def _image_sample(x: np.ndarray):
    """(images (k, H, W[, 3]), ok) when the inputs look like images."""
    if x.ndim == 3 and min(x.shape[1:]) >= 4:
        return x
    if x.ndim == 4 and x.shape[1] in (1, 3) and min(x.shape[2:]) >= 4:
        return x[:, 0] if x.shape[1] == 1 else np.moveaxis(x, 1, -1)
    return None


def run(exam) -> None:
    """Stage 1: check the training data (and the validation data when given)."""
    stage = exam.stage("data", "1. Data")
    gen = exam.generator(1)
    limit = exam.budget.data_rows
    rows = exam.rows
    order = np.sort(gen.permutation(rows.n)[: min(limit, rows.n)])
    inputs, target = rows.get(order)
    stage.numbers["rows"] = rows.n
    stage.numbers["rows_checked"] = int(order.size)
    streamed = {True: " read from a stream", "its first": " read from a stream (its first)"}.get(
        getattr(rows, "streamed", False), ""
    )
    stage.lines.append(f"{rows.n} training rows{streamed} ({order.size} checked)")
    for name, dataset in (("training", rows), ("validation", exam.val)):
        if dataset is None:
            continue
        if dataset is rows:
            idx, xs, y = order, inputs, target
        else:
            idx = np.sort(gen.permutation(dataset.n)[: min(limit, dataset.n)])
            xs, y = dataset.get(idx)
        bad_x = _nonfinite_rows(list(xs))
        bad_y = _nonfinite_rows([y])
        bad = np.union1d(bad_x, bad_y)
        stage.numbers[f"{name}_nonfinite_rows"] = int(bad.size)
        if bad.size:
            where = idx[bad]
            part = ["inputs", "targets", "inputs and targets"][
                (bad_y.size > 0) + (bad_x.size > 0 and bad_y.size > 0)
            ]
            exam.add(
                "data.non_finite",
                f"{bad.size} of {idx.size} {name} rows checked hold NaN/Inf in their {part}; "
                f"rows {where[:_SHOW_ROWS].tolist()}" + (" ..." if bad.size > _SHOW_ROWS else ""),
                evidence={"split": name, "rows": where[:200].tolist(), "count": int(bad.size)},
                strength=2.0 + float(np.log10(bad.size)),
            )
    for i, x in enumerate(inputs):
        check_scale(exam, stage, x, i)
    if target is not None and exam.task is not None:
        check_labels(exam, stage, target)
    if exam.val is not None:
        check_overlap(exam, stage, exam.generator(2))
    images = _image_sample(inputs[0][:16]) if inputs[0].dtype.kind == "f" else None
    if images is not None:
        labels = None if target is None or target.ndim != 1 else target[:16].tolist()
        exam.plots["samples"] = {"images": images, "labels": labels}
