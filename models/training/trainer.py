"""The training loop shared by every recipe: Adam/SGD, UAR-based selection, a collapse guard, Job progress.

``fit`` keeps the weights of the epoch with the best validation UAR (unweighted average recall;
ties broken by the lower validation loss) and stops after ``patience`` epochs without improvement.
Where the validation set has no class labels (or the outputs are a single logit) it selects on
validation loss, as before. Class-balanced loss weights (``class_weight="balanced"``) and a
learning-rate schedule (``lr_schedule="cosine"``: linear warm-up then cosine decay, per step) are
opt-in. After training, the selected epoch's validation predictions are scored with bootstrap CIs
(``FitResult.val_report``); a model that answers one class, or recalls some class under 0.2, is
reported loudly (``FitResult.collapse``, the ``affectscope.training`` logger, ``job.partial``).
Progress is reported per batch; cancellation is checked between batches (``Cancelled`` leaves the
model at its best weights so far).
"""

from __future__ import annotations

import copy
import inspect
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from affectscope.analysis.metrics import classification_report, format_report
from affectscope.jobs import Job, ensure_job

log = logging.getLogger("affectscope.training")

Forward = Callable[[nn.Module, Any], Any]  # (model, inputs) -> logits tensor or SystemOutput
LossFn = Callable[[Any, torch.Tensor], torch.Tensor]
#: (output, labels, inputs, epoch) -> loss: a loss that needs the batch or the epoch (schedules)
ContextLoss = Callable[[Any, torch.Tensor, Any, int], torch.Tensor]


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(logits, y.long())


def binary_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy_with_logits(logits.reshape(-1), y.float().reshape(-1))


@dataclass
class FitResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_val_loss: float = float("inf")
    stopped_early: bool = False
    seconds: float = 0.0
    #: the loss reached no trainable parameter (e.g. a parameter-free vote fusion): nothing was trained
    nothing_to_train: bool = False
    #: what chose the kept epoch: "val_uar" (classification with labels) or "val_loss"
    selected_on: str = "val_loss"
    best_val_uar: float | None = None
    #: the kept epoch's validation metrics (UAR, accuracy, macro-F1 with bootstrap CIs, per-class recall)
    val_report: dict[str, Any] | None = None
    #: collapse-guard warnings on the kept epoch's validation predictions (empty: no collapse)
    collapse: list[str] = field(default_factory=list)
    class_weights: list[float] | None = None
    lr_schedule: str | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-ready record for model cards (history included)."""
        return {
            "epochs_run": len(self.history),
            "best_epoch": self.best_epoch,
            "selected_on": self.selected_on,
            "best_val_uar": self.best_val_uar,
            "best_val_loss": self.best_val_loss,
            "stopped_early": self.stopped_early,
            "seconds": round(self.seconds, 1),
            "class_weights": self.class_weights,
            "lr_schedule": self.lr_schedule,
            "val": self.val_report,
            "collapse": self.collapse,
            "collapsed": bool(self.collapse),
            "history": self.history,
        }


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _collate(items: list[tuple[Any, Any]]) -> tuple[Any, torch.Tensor]:
    """Stack tensors, or concatenate system batches (dicts of batch-of-1 tensors) along dim 0."""
    xs, ys = zip(*items, strict=True)
    y = torch.stack([torch.as_tensor(v) for v in ys])
    if isinstance(xs[0], dict):
        return {k: torch.cat([x[k] for x in xs], dim=0) for k in xs[0]}, y
    return torch.stack(list(xs)), y


def _to(x: Any, device: torch.device) -> Any:
    return {k: v.to(device) for k, v in x.items()} if isinstance(x, dict) else x.to(device)


def _logits(out: Any) -> torch.Tensor:
    """A system's ``SystemOutput`` or a plain network's tensor → the tensor to report."""
    return getattr(out, "logits", out)


def _loader(ds: Dataset, batch_size: int, shuffle: bool, seed: int) -> DataLoader:
    g = torch.Generator().manual_seed(seed)
    # Training drops a last batch of one: batch norm cannot normalise a single example.
    drop = shuffle and len(ds) % batch_size == 1
    return DataLoader(
        ds,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=g,
        num_workers=0,
        collate_fn=_collate,
        drop_last=drop,
    )


def _frozen(module: nn.Module) -> bool:
    """A module with parameters none of which train (a frozen branch's batch norm keeps its statistics)."""
    params = list(module.parameters())
    return bool(params) and not any(p.requires_grad for p in params)


def _train_mode(model: nn.Module) -> None:
    """Train mode, except frozen batch norms: their running statistics belong to the trained branch."""
    model.train()
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and _frozen(m):
            m.eval()


@torch.no_grad()
def recalibrate_batchnorm(
    model: nn.Module,
    forward: Forward,
    ds: Dataset,
    batch_size: int = 32,
    max_batches: int = 20,
    job: Job | None = None,
) -> None:
    """Re-estimate batch-norm statistics with dropout off (cumulative average over training batches).

    Running statistics collected while dropout is on do not match the activations seen at
    evaluation (dropout's variance shift); with the seed 004 CNNs (dropout before BN) this made the
    eval-mode loss on the *training* data 1.40 where train mode gave 0.33; recalibrated: 0.18.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and not _frozen(m)]
    if not norms:
        return
    device = next(model.parameters()).device
    model.eval()
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
        m.train()
    try:
        for i, (x, _) in enumerate(_loader(ds, batch_size, True, 12345)):
            if i >= max_batches:
                break
            if job is not None:
                job.check()
            forward(model, _to(x, device))
    finally:
        for m, mom in zip(norms, saved, strict=True):
            m.momentum = mom
        model.eval()


@torch.no_grad()
def evaluate_loss(
    model: nn.Module,
    forward: Forward,
    ds: Dataset,
    loss: LossFn,
    batch_size: int = 32,
    device: torch.device | None = None,
    job: Job | None = None,
    context_loss: ContextLoss | None = None,
    epoch: int = 0,
) -> tuple[float, np.ndarray]:
    """(mean loss, stacked outputs) over a dataset in eval mode (``context_loss`` at ``epoch`` if given)."""
    device = device or default_device()
    model.eval()
    total, n, outs = 0.0, 0, []
    for x, y in _loader(ds, batch_size, False, 0):
        if job is not None:
            job.check()
        x = _to(x, device)
        out = forward(model, x)
        y = y.to(device)
        total += float(context_loss(out, y, x, epoch) if context_loss else loss(out, y)) * len(y)
        n += len(y)
        outs.append(_logits(out).float().cpu().numpy())
    return total / max(n, 1), np.concatenate(outs) if outs else np.zeros((0,))


def class_weights_for(labels: Any, num_classes: int | None = None) -> torch.Tensor:
    """Inverse-frequency weights (scikit-learn's "balanced": n / (C · n_c)); absent classes get 0."""
    y = np.asarray(labels, int).reshape(-1)
    c = int(num_classes or (y.max() + 1 if len(y) else 1))
    counts = np.bincount(y, minlength=c).astype(np.float64)
    w = np.where(counts > 0, len(y) / (c * np.maximum(counts, 1)), 0.0)
    return torch.tensor(w, dtype=torch.float32)


def weighted_cross_entropy(weights: torch.Tensor) -> LossFn:
    def loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        lg = _logits(logits)
        return nn.functional.cross_entropy(lg, y.long(), weight=weights.to(lg.device))

    return loss


def _schedule(opt: torch.optim.Optimizer, kind: str | None, total_steps: int) -> Any:
    """Per-step LR multiplier: "cosine" = 5 % linear warm-up, then cosine decay to 5 % of the base."""
    if kind in (None, "none", "constant"):
        return None
    if kind != "cosine":
        raise ValueError(f"unknown lr_schedule {kind!r} (known: cosine, none)")
    warm = max(1, int(0.05 * total_steps))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        t = min(1.0, (step - warm) / max(1, total_steps - warm))
        return 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * t))

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def _predictions(out: np.ndarray) -> np.ndarray | None:
    """Class predictions from stacked multi-class logits, or None (binary / regression outputs)."""
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(1)
    return None


def report_collapse(report: dict[str, Any], what: str, job: Job | None = None) -> list[str]:
    """Say loudly (log warning, job partial result) when a report shows a collapsed model."""
    warnings = list(report.get("warnings", []))
    if warnings:
        msg = f"COLLAPSE GUARD: {what}: " + "; ".join(warnings)
        log.warning(msg)
        if job is not None:
            job.partial({"warning": msg})
    return warnings


def fit(
    model: nn.Module,
    forward: Forward,
    train: Dataset,
    val: Dataset,
    *,
    loss: LossFn = cross_entropy,
    epochs: int = 10,
    lr: float = 1e-3,
    batch_size: int = 32,
    patience: int = 3,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    params: list[nn.Parameter] | list[dict] | None = None,
    seed: int = 0,
    job: Job | None = None,
    what: str = "model",
    max_seconds: float | None = None,
    recalibrate: bool = True,
    context_loss: ContextLoss | None = None,
    epoch_info: Callable[[int], dict[str, float]] | None = None,
    class_weight: str | Any | None = None,
    lr_schedule: str | None = None,
    select: str = "auto",
    label_names: Any = None,
) -> FitResult:
    """Train ``model`` in place; returns the history and restores the best-validation weights.

    ``params`` may be optimizer parameter groups (per-group learning rates); ``context_loss``
    replaces ``loss`` when the loss needs the inputs or the epoch; ``epoch_info(epoch)`` adds
    values (schedules) to each history row. ``class_weight="balanced"`` (or explicit weights)
    weights the default cross-entropy by inverse class frequency of ``train.labels``;
    ``lr_schedule="cosine"`` warms up and decays the rate per step; ``select`` is "auto" (UAR when
    the validation set has labels and the outputs are multi-class), "uar" or "loss".
    """
    job = ensure_job(job)
    device = default_device()
    torch.manual_seed(seed)
    model.to(device)
    params = params if params is not None else [p for p in model.parameters() if p.requires_grad]
    if optimizer == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    result = FitResult(lr_schedule=lr_schedule)
    if class_weight is not None and context_loss is None:
        if isinstance(class_weight, str):
            if class_weight != "balanced":
                raise ValueError(f"unknown class_weight {class_weight!r} (known: balanced)")
            train_labels = getattr(train, "labels", None)
            if train_labels is None:
                raise ValueError("class_weight='balanced' needs a training dataset with .labels")
            n_cls = len(label_names) if label_names is not None else None
            weights = class_weights_for(train_labels, n_cls)
        else:
            weights = torch.as_tensor(np.asarray(class_weight, dtype=np.float32))
        result.class_weights = [round(float(w), 4) for w in weights]
        loss = weighted_cross_entropy(weights)
    best_state = copy.deepcopy(model.state_dict())
    start = time.perf_counter()
    steps_per_epoch = max(1, -(-len(train) // batch_size))
    sched = _schedule(opt, lr_schedule, epochs * steps_per_epoch)
    val_labels = getattr(val, "labels", None)
    best_key: tuple[float, float] = (-math.inf, -math.inf)
    best_pred: np.ndarray | None = None
    bad = 0
    try:
        for epoch in range(epochs):
            _train_mode(model)
            seen, running = 0, 0.0
            for step, (x, y) in enumerate(_loader(train, batch_size, True, seed + epoch)):
                job.check()
                opt.zero_grad()
                x, y = _to(x, device), y.to(device)
                out = forward(model, x)
                batch_loss = context_loss(out, y, x, epoch) if context_loss else loss(out, y)
                if not batch_loss.requires_grad:
                    result.nothing_to_train = True
                    break
                batch_loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
                running += float(batch_loss.detach()) * len(y)
                seen += len(y)
                job.progress(
                    epoch * steps_per_epoch + step + 1,
                    epochs * steps_per_epoch,
                    f"{what}: epoch {epoch + 1}/{epochs}, loss {running / seen:.3f}",
                )
            if result.nothing_to_train:
                break
            if recalibrate:
                recalibrate_batchnorm(model, forward, train, batch_size, job=job)
            val_loss, val_out = evaluate_loss(
                model, forward, val, loss, batch_size, device, job, context_loss, epoch
            )
            row = {"epoch": epoch + 1, "train_loss": running / max(seen, 1), "val_loss": val_loss}
            if epoch_info is not None:
                row.update(epoch_info(epoch))
            pred = _predictions(val_out) if val_labels is not None and len(val_out) else None
            use_uar = select == "uar" or (select == "auto" and pred is not None)
            if val_labels is not None and len(val_out):
                y_val = np.asarray(val_labels).astype(int)
                if pred is None:
                    pred = (val_out.reshape(-1) > 0).astype(int)
                row["val_accuracy"] = float(np.mean(pred.astype(int) == y_val))
                if use_uar:
                    names = list(label_names) if label_names is not None else None
                    n_cls = len(names) if names else int(max(y_val.max(), pred.max()) + 1)
                    names = names or [str(i) for i in range(n_cls)]
                    rep = classification_report(y_val, pred, names, ci=False)
                    row["val_uar"] = rep["uar"]
                    row["val_macro_f1"] = rep["macro_f1"]
                    row["val_collapsed"] = rep["collapsed"]
            result.history.append(row)
            job.partial(row)
            key = (row["val_uar"], -val_loss) if use_uar and "val_uar" in row else (-val_loss, 0.0)
            if key > best_key:
                best_key, bad = key, 0
                result.best_val_loss, result.best_epoch = val_loss, epoch + 1
                result.selected_on = "val_uar" if use_uar and "val_uar" in row else "val_loss"
                result.best_val_uar = row.get("val_uar")
                best_pred = pred if result.selected_on == "val_uar" else None
                best_state = copy.deepcopy(model.state_dict())
            else:
                bad += 1
                if bad >= patience:
                    result.stopped_early = True
                    break
            if max_seconds is not None and time.perf_counter() - start > max_seconds:
                result.stopped_early = True
                break
    finally:
        model.load_state_dict(best_state)
        result.seconds = time.perf_counter() - start
    if best_pred is not None and val_labels is not None:
        names = list(label_names) if label_names is not None else None
        y_val = np.asarray(val_labels).astype(int)
        n_cls = len(names) if names else int(max(y_val.max(), best_pred.max()) + 1)
        result.val_report = classification_report(y_val, best_pred, names or [str(i) for i in range(n_cls)])
        log.info("%s: validation %s (epoch %d)", what, format_report(result.val_report), result.best_epoch)
        result.collapse = report_collapse(result.val_report, f"{what} (validation)", job)
    return result


def stage_epochs(shares: list[float], epochs: int) -> list[int]:
    """Split an epoch budget over stages by their shares, at least one epoch each."""
    total = sum(shares) or 1.0
    return [max(1, round(epochs * sh / total)) for sh in shares]


def system_loss(model: nn.Module, stage: str | None) -> tuple[str, ContextLoss]:
    """The loss the system declares, in order of preference: ``training_loss(output, labels, batch,
    stage, epoch)`` (epoch only where it takes one), ``loss_fn(output, labels)``, cross-entropy."""
    training_loss = getattr(model, "training_loss", None)
    if training_loss is not None:
        takes = inspect.signature(training_loss).parameters
        takes_epoch = "epoch" in takes

        def staged(out: Any, y: torch.Tensor, x: Any, epoch: int) -> torch.Tensor:
            kw: dict[str, Any] = {} if stage is None else {"stage": stage}
            if takes_epoch:
                kw["epoch"] = epoch
            return training_loss(out, y.long(), x, **kw)

        return "training_loss" + (f"(stage={stage!r})" if stage else ""), staged
    loss_fn = getattr(model, "loss_fn", None)
    if loss_fn is not None:
        smoothing = float(getattr(model, "label_smoothing", 0.0))
        return f"loss_fn (label smoothing {smoothing:g})", lambda out, y, x, e: loss_fn(out, y.long())
    return "cross_entropy", lambda out, y, x, e: cross_entropy(_logits(out), y)


@torch.no_grad()
def _validation_fusion(model: nn.Module, forward: Forward, val: Dataset, batch_size: int) -> Any:
    """Let a system choose its fusion weights on the validation set's per-modality logits."""
    device = next(model.parameters()).device
    model.eval()
    per: dict[str, list[torch.Tensor]] = {}
    masks: dict[str, list[torch.Tensor]] = {}
    labels = []
    for x, y in _loader(val, batch_size, False, 0):
        x = _to(x, device)
        out = forward(model, x)
        for m, logits in out.per_modality.items():
            per.setdefault(m, []).append(logits.float().cpu())
            mask = x.get(f"{m}_mask", torch.ones(len(y))) if isinstance(x, dict) else torch.ones(len(y))
            masks.setdefault(m, []).append(mask.float().reshape(-1).cpu())
        labels.append(y.long())
    if not labels:
        return None
    return model.choose_fusion_weights(
        {m: torch.cat(v) for m, v in per.items()},
        torch.cat(labels),
        {m: torch.cat(v) for m, v in masks.items()},
    )


def fit_system(
    model: nn.Module,
    forward: Forward,
    train: Dataset,
    val: Dataset,
    *,
    epochs: int = 10,
    lr: float | None = None,
    batch_size: int = 32,
    patience: int = 3,
    seed: int = 0,
    job: Job | None = None,
    what: str = "model",
) -> tuple[FitResult, dict[str, Any]]:
    """Train a system the way it declares: its ``training_stages`` in order (freezing branches where
    a stage says so), each on the system's preferred loss, with its ``param_groups(lr)``, its
    ``learning_rate``/``weight_decay`` where it has them, then its validation-chosen fusion weights.

    Returns the combined result (history rows carry their ``stage``) and a record of the schedule,
    losses and parameter groups used, for the model card. Early stopping acts within each stage.
    """
    job = ensure_job(job)
    lr = float(lr if lr is not None else getattr(model, "learning_rate", 1e-3))
    weight_decay = float(getattr(model, "weight_decay", 0.0))
    declared = list(getattr(model, "training_stages", ()) or ())
    stages: list[tuple[str | None, float, bool]] = [
        (st.name, st.share, st.freeze_branches) for st in declared
    ] or [(None, 1.0, False)]
    budget = stage_epochs([sh for _, sh, _ in stages], epochs) if declared else [epochs]
    model.to(default_device())
    combined, record = (
        FitResult(),
        {"lr": lr, "weight_decay": weight_decay, "optimizer": "adam", "stages": []},
    )
    froze = False
    try:
        for i, ((name, _, freeze), n_epochs) in enumerate(zip(stages, budget, strict=True)):
            if freeze and hasattr(model, "freeze_branches"):
                model.freeze_branches(True)
                froze = True
            loss_name, loss = system_loss(model, name)
            groups = model.param_groups(lr) if hasattr(model, "param_groups") else None
            if groups is None:
                groups = [{"params": [p for p in model.parameters() if p.requires_grad], "lr": lr}]
            groups = [g for g in groups if g["params"]]
            info = {
                "name": name or "single",
                "epochs": n_epochs,
                "freeze_branches": freeze,
                "loss": loss_name,
                "param_groups": [
                    {"lr": g.get("lr", lr), "n_params": sum(p.numel() for p in g["params"])} for g in groups
                ],
            }
            if not groups:
                info["skipped"] = "no trainable parameters"
                record["stages"].append(info)
                continue
            schedule = getattr(model, "schedule_values", None)
            res = fit(
                model,
                forward,
                train,
                val,
                loss=cross_entropy,
                context_loss=loss,
                epochs=n_epochs,
                lr=lr,
                batch_size=batch_size,
                patience=patience,
                weight_decay=weight_decay,
                params=groups,
                seed=seed + 1000 * i,
                job=job,
                what=f"{what} [{info['name']}]" if name else what,
                epoch_info=(lambda e, n=name, f=schedule: f(n, e)) if schedule and name else None,
            )
            for row in res.history:
                row["stage"] = info["name"]  # type: ignore[assignment]
            info.update(
                epochs_run=len(res.history),
                best_epoch=res.best_epoch,
                best_val_loss=res.best_val_loss,
                selected_on=res.selected_on,
                best_val_uar=res.best_val_uar,
                collapse=res.collapse,
            )
            if res.nothing_to_train:
                info["skipped"] = "the loss reaches no trainable parameter"
            record["stages"].append(info)
            combined.history += res.history
            combined.seconds += res.seconds
            combined.stopped_early = combined.stopped_early or res.stopped_early
            if not res.nothing_to_train:
                combined.best_epoch, combined.best_val_loss = res.best_epoch, res.best_val_loss
                combined.selected_on, combined.best_val_uar = res.selected_on, res.best_val_uar
                combined.val_report, combined.collapse = res.val_report, res.collapse
        from affectscope.models.systems.base import EmotionSystem

        chooser = getattr(type(model), "choose_fusion_weights", None)
        if chooser is not None and chooser is not EmotionSystem.choose_fusion_weights:
            record["fusion_weights"] = _validation_fusion(model, forward, val, batch_size)
    finally:
        if froze:
            model.freeze_branches(False)  # leave the model trainable for fine-tuning later
    return combined, record


@torch.no_grad()
def predict_outputs(
    model: nn.Module, forward: Forward, ds: Dataset, batch_size: int = 32, job: Job | None = None
) -> np.ndarray:
    """Raw outputs (logits) over a dataset, eval mode, in order."""
    device = default_device()
    model.to(device).eval()
    outs = []
    for x, _ in _loader(ds, batch_size, False, 0):
        if job is not None:
            job.check()
        outs.append(_logits(forward(model, _to(x, device))).float().cpu().numpy())
    return np.concatenate(outs)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def file_probabilities(window_probs: np.ndarray, file_index: np.ndarray, n_files: int) -> np.ndarray:
    """Mean window probabilities per file (a file's prediction from all of its windows)."""
    out = np.zeros((n_files, window_probs.shape[1]))
    np.add.at(out, file_index, window_probs)
    counts = np.bincount(file_index, minlength=n_files)[:, None]
    return out / np.maximum(counts, 1)
