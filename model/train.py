"""Quantization-aware trainer (numpy only) for the integer model of MODEL.md.

The float model is the integer model with its rounding steps relaxed:

    a = Wq x + bq;  z = a / 2**shift;  zq = floor(z);  hidden: relu(zq)

where Wq = Q(W) is W rounded to {-2,-1,0,1} with a dead zone |w| < 0.5 (an
adaptive L1 pull brings the requested fraction of weights into it), bq =
round(b), and every rounding uses a straight-through estimator (the gradient
passes as if it were the identity).  A quantile threshold instead of the pull
was measured to drift: latents pile up at the clip range, the threshold rises
and zeroes useful weights, and accuracy falls while training goes on.
Progressive quantization blends each rounding in with a factor alpha that
ramps from 0 to 1 over the first part of training; once alpha is 1 the
forward pass is exactly the integer model (as long as nothing overflows), and
a penalty keeps every accumulator well inside int16.

Accuracy shown while training and used to keep the best checkpoint is always
that of the exported integer model run by the exact reference.
"""
from __future__ import annotations

import json
import sys
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from model.data import Pair, check_trainable, query_key
from model.encode import INPUT_SIZE, QUERY_BUCKETS
from model.evaluate import Scores, evaluate, step_inputs
from model.reference import IntModel, load_model, save_model

OVERFLOW_LIMIT = 24000.0      # accumulators beyond this are penalised (int16 max 32767)


class CheckpointError(Exception):
    """A checkpoint that cannot be resumed from; the message says why."""


class TrainingInterrupted(Exception):
    """Ctrl-C during training; the best model so far was saved to `args[0]`."""


@dataclass
class TrainConfig:
    hidden_sizes: list[int] = field(default_factory=lambda: [96, 64])
    shifts: list[int] | None = None          # default: 2 for every layer (format v1)
    epochs: int = 150
    batch_size: int = 128
    lr: float = 0.02                          # measured: 0.01 kept tinychat at 97.9%, 0.02 gives 99.3%
    sparsity: float = 0.65                    # target fraction of zero weights
    quant_ramp: float = 0.2                   # fraction of epochs to reach full quantization
    logit_scale: float = 0.25                 # softmax temperature on integer logits
    overflow_weight: float = 1.0
    activation_l1: float = 0.0                # pushes hidden outputs to zero (engine speed)
    seed: int = 1
    holdout: float = 0.0                      # fraction of distinct queries held out
    query_sparsity: float = 0.5               # layer 1, query columns, if context_sparsity is set
    context_sparsity: float | None = None     # quantile mode, layer 1 context columns (None: --sparsity)
    weight_decay: float = 0.0                 # decoupled (AdamW) decay of latent weights
    quantized_lr_factor: float = 1.0          # learning rate multiplier once fully quantized
    sparsity_mode: str = "shrink"             # shrink: L1 pull to the target (measured best);
                                              # quantile: threshold at the target quantile
    scale_mode: str = "fixed"                 # per-layer weight scale, see weight_scale

    def layer_shifts(self) -> list[int]:
        n = len(self.hidden_sizes) + 1
        if self.shifts is None:
            return [2] * n
        if len(self.shifts) != n:
            raise ValueError(f"{len(self.shifts)} shifts given for {n} layers")
        if not all(0 <= s <= 15 for s in self.shifts):
            raise ValueError(f"shifts must be 0..15, got {self.shifts}")
        return list(self.shifts)


def split_holdout(pairs: Sequence[Pair], fraction: float, seed: int) -> tuple[list[Pair], list[Pair]]:
    """Hold out whole distinct queries (all their pairs), deterministically."""
    if fraction <= 0:
        return list(pairs), []
    keys = sorted({query_key(p.query) for p in pairs})
    rng = np.random.default_rng(seed + 1000)
    held = set(rng.choice(keys, size=int(len(keys) * fraction), replace=False).tolist())
    train = [p for p in pairs if query_key(p.query) not in held]
    return train, [p for p in pairs if query_key(p.query) in held]


# --------------------------------------------------------------- quantizers

def weight_scale(w: np.ndarray, sparsity: float, mode: str = "fixed") -> float:
    """Per-layer scale: latent weights / scale round onto {-2,-1,0,1}.
    fixed: latents live on the integer grid (scale 1; measured to train best);
    quantile: the scale follows the weight distribution (dead zone = sparsity)."""
    if mode == "fixed":
        return 1.0
    mag = np.abs(w)
    if sparsity > 0:
        return max(2.0 * float(np.quantile(mag, sparsity)), 1e-6)
    return max(float(np.mean(mag)), 1e-6)


def quantize_weights(w: np.ndarray, sparsity: float, scale: float = 1.0) -> np.ndarray:
    """Integer weights in {-2,-1,0,1}: |w| below max(scale/2, the `sparsity`
    quantile of |w|) become 0, the rest round to the nearest nonzero value."""
    mag = np.abs(w)
    threshold = 0.5 * scale
    if sparsity > 0:
        flat = mag.ravel()
        kth = min(flat.size - 1, int(sparsity * flat.size))
        threshold = max(threshold, float(np.partition(flat, kth)[kth]))
    q = np.clip(np.sign(w) * np.maximum(1.0, np.round(mag / scale)), -2, 1)
    q[mag < threshold] = 0.0
    return q


class Trainer:
    """Latent float weights, Adam state and the training loop."""

    def __init__(self, config: TrainConfig, charset: str):
        self.config = config
        self.charset = charset
        self.shifts = config.layer_shifts()
        sizes = [INPUT_SIZE] + list(config.hidden_sizes) + [len(charset)]
        rng = np.random.default_rng(config.seed)
        self.weights = [rng.normal(0.0, 0.9, size=(o, i)).astype(np.float32)
                        for i, o in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(o, dtype=np.float32) for o in sizes[1:]]
        self.params = self.weights + self.biases
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0
        self.epoch = 0
        self.rng = rng
        self.shrink = [0.0] * len(self.weights)   # L1 strength per layer (sparsity_mode shrink)
        self.best_key = (-1.0, -1.0)  # (exact, per-char) of the best model saved so far
        self.hits = 0             # right teacher-forced steps this epoch (training path)

    # the integer model the current latent weights stand for
    def quantize(self, k: int, scale: float) -> np.ndarray:
        """Integer weights of layer k.  Layer 1's context columns get their own
        sparsity: the engine pays for them every step (21 additions), while the
        query columns are paid once per query."""
        w, cfg = self.weights[k], self.config
        if cfg.sparsity_mode == "shrink":
            return quantize_weights(w, 0.0, scale)
        if k > 0 or cfg.context_sparsity is None:
            return quantize_weights(w, cfg.sparsity, scale)
        split = QUERY_BUCKETS
        return np.concatenate([quantize_weights(w[:, :split], cfg.query_sparsity, scale),
                               quantize_weights(w[:, split:], cfg.context_sparsity, scale)], axis=1)

    def scales(self) -> tuple[list[float], list[float]]:
        """Per-layer weight scales and their running products.  The float model
        is the integer one times the product: integer accumulators = a / product."""
        deltas = [weight_scale(w, self.config.sparsity, self.config.scale_mode)
                  for w in self.weights]
        return deltas, [float(v) for v in np.cumprod(deltas)]   # python floats keep float32

    def export(self, metadata: dict | None = None) -> IntModel:
        deltas, products = self.scales()
        weights = [self.quantize(k, d).astype(np.int8) for k, d in enumerate(deltas)]
        biases = [np.clip(np.round(b / p), -32768, 32767).astype(np.int16)
                  for b, p in zip(self.biases, products)]
        return IntModel(weights, biases, list(self.shifts), self.charset, dict(metadata or {}))

    def alpha(self) -> float:
        ramp = max(1, int(self.config.epochs * self.config.quant_ramp))
        return min(1.0, (self.epoch + 1) / ramp)

    def step(self, x: np.ndarray, y: np.ndarray, alpha: float) -> float:
        cfg = self.config
        n_layers = len(self.weights)
        deltas, products = self.scales()
        self.deltas, self.products = deltas, products
        qw = [w + alpha * (d * self.quantize(k, d) - w)
              for k, (w, d) in enumerate(zip(self.weights, deltas))]
        qb = [b + alpha * (p * np.round(b / p) - b) for b, p in zip(self.biases, products)]
        acts, pre, masks = [x], [], []
        h = x
        for k in range(n_layers):
            a = h @ qw[k].T + qb[k]
            pre.append(a)
            z = a / (1 << self.shifts[k])
            z = z + alpha * (products[k] * np.floor(z / products[k]) - z)
            if k < n_layers - 1:
                mask = z > 0
                masks.append(mask)
                h = np.where(mask, z, 0.0)
                acts.append(h)
            else:
                h = z
        logits = h * cfg.logit_scale
        logits -= logits.max(axis=1, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(axis=1, keepdims=True)
        batch = len(y)
        self.hits += int(np.sum(np.argmax(logits, axis=1) == y))
        loss = float(-np.mean(np.log(prob[np.arange(batch), y] + 1e-12)))
        grad = prob
        grad[np.arange(batch), y] -= 1.0
        grad *= cfg.logit_scale / batch
        grads_w, grads_b = [None] * n_layers, [None] * n_layers
        for k in range(n_layers - 1, -1, -1):
            da = grad / (1 << self.shifts[k])
            a = pre[k] / products[k]          # the integer accumulators
            over = np.abs(a) - OVERFLOW_LIMIT
            if (over > 0).any():
                pen = np.where(over > 0, over, 0.0)
                loss += cfg.overflow_weight * float(np.sum(pen ** 2)) / (OVERFLOW_LIMIT ** 2 * batch)
                da = da + (cfg.overflow_weight * 2 * pen * np.sign(a)
                           / (OVERFLOW_LIMIT ** 2 * batch * products[k]))
            grads_w[k] = da.T @ acts[k]
            grads_b[k] = da.sum(axis=0)
            if k > 0:
                grad = (da @ qw[k]) * masks[k - 1]
                if cfg.activation_l1:
                    grad = grad + cfg.activation_l1 * masks[k - 1] / batch
        self._adam(grads_w + grads_b)
        return loss

    def _adam(self, grads: list[np.ndarray], beta1=0.9, beta2=0.999, eps=1e-8) -> None:
        self.t += 1
        # cosine decay to 5% over the whole run: quantized weights need calm late steps
        progress = min(1.0, self.epoch / max(1, self.config.epochs))
        lr = self.config.lr * (0.05 + 0.95 * 0.5 * (1 + float(np.cos(np.pi * progress))))
        if self.alpha() >= 1.0:
            # with integer weights, Adam's unit-size steps make dead-zone latents
            # random-walk across thresholds: a calmer rate keeps training stable
            lr *= self.config.quantized_lr_factor
        n_w = len(self.weights)
        for i, (p, g) in enumerate(zip(self.params, grads)):
            self.m[i] = beta1 * self.m[i] + (1 - beta1) * g
            self.v[i] = beta2 * self.v[i] + (1 - beta2) * g * g
            m_hat = self.m[i] / (1 - beta1 ** self.t)
            v_hat = self.v[i] / (1 - beta2 ** self.t)
            # biases live in integer units (tens to hundreds): a bigger step
            scale = lr if i < n_w else lr * 20 * self.products[i - n_w]
            p -= scale * m_hat / (np.sqrt(v_hat) + eps)
            if i < n_w and self.config.weight_decay:
                # decoupled decay: stops latent weights drifting outward, which
                # drags the sparsity threshold up and zeroes useful weights
                p -= scale * self.config.weight_decay * p
            if i < n_w and self.config.sparsity_mode == "shrink":
                # Fixed dead zone |w| < 0.5; an L1 pull whose strength follows
                # the gap to the sparsity target.  Unlike a quantile threshold,
                # large weights drifting outward cannot zero the small ones.
                zero_frac = float(np.mean(np.abs(p) < 0.5 * self.deltas[i]))
                self.shrink[i] = max(0.0, self.shrink[i] + 0.02 * (self.config.sparsity - zero_frac))
                if self.shrink[i]:
                    mag = np.maximum(np.abs(p) - scale * self.shrink[i], 0.0)
                    p[...] = np.sign(p) * mag
            if i < n_w:
                # beyond these the integer weight no longer changes: keep latents close
                np.clip(p, -2.5 * self.deltas[i], 1.5 * self.deltas[i], out=p)

    # --------------------------------------------------------- checkpoints
    def state(self) -> dict:
        arrays = {f"w{k}": w for k, w in enumerate(self.weights)}
        arrays.update({f"b{k}": b for k, b in enumerate(self.biases)})
        arrays.update({f"m{k}": m for k, m in enumerate(self.m)})
        arrays.update({f"v{k}": v for k, v in enumerate(self.v)})
        meta = {"t": self.t, "epoch": self.epoch, "charset": self.charset, "shrink": self.shrink,
                "config": asdict(self.config), "rng": self.rng.bit_generator.state,
                "best_key": list(self.best_key)}
        arrays["_meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        return arrays

    def load_state(self, arrays: dict) -> None:
        meta = json.loads(bytes(arrays["_meta"].tolist()).decode())
        if meta.get("charset", self.charset) != self.charset:
            raise CheckpointError("it was trained on answers with another charset "
                                  f"({meta['charset'][:-1]!r}, this data: {self.charset[:-1]!r})")
        for k in range(len(self.weights)):
            if arrays[f"w{k}"].shape != self.weights[k].shape:
                shapes = [arrays[f"w{i}"].shape[0] for i in range(len(self.weights) - 1)
                          if f"w{i}" in arrays]
                raise CheckpointError(f"it has another architecture (hidden sizes {shapes}, "
                                      f"asked for {self.config.hidden_sizes})")
            self.weights[k][...] = arrays[f"w{k}"]
            self.biases[k][...] = arrays[f"b{k}"]
        for i in range(len(self.params)):
            self.m[i] = arrays[f"m{i}"].copy()
            self.v[i] = arrays[f"v{i}"].copy()
        self.t, self.epoch = meta["t"], meta["epoch"]
        self.shrink = list(meta.get("shrink", self.shrink))
        self.best_key = tuple(meta.get("best_key", self.best_key))
        self.rng.bit_generator.state = meta["rng"]


def best_text(best_key: tuple) -> str:
    """The best exact accuracy so far, or '-' before the first fully quantized epoch."""
    return "-" if best_key[0] < 0 else f"{best_key[0]:.2%}"


def checkpoint_path(output: Path) -> Path:
    return output.with_name(output.stem + ".ckpt.npz")


def save_checkpoint(trainer: "Trainer", path: Path) -> None:
    """Write through a temporary file, so a Ctrl-C mid-write leaves the old checkpoint."""
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **trainer.state())
    tmp.replace(path)


def load_checkpoint(trainer: "Trainer", path: Path) -> None:
    if not path.is_file():
        raise CheckpointError(f"no checkpoint to resume from: {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        trainer.load_state(arrays)
    except CheckpointError as exc:
        raise CheckpointError(f"cannot resume from {path}: {exc}") from None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"cannot resume from {path}: not a readable checkpoint ({exc}); "
                              "start again without --resume") from None


def train(pairs: Sequence[Pair], config: TrainConfig, output: Path,
          heldout: Sequence[Pair] = (), resume: bool = False,
          log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
          source: str = "<data>", metadata: dict | None = None) -> tuple[IntModel, Scores]:
    """Train, keep the integer model with the best exact accuracy on the
    training pairs, save it to `output`; returns (model, its scores).
    DataError for answers no model can print, CheckpointError for a bad resume."""
    pairs = list(pairs)
    if heldout:
        train_pairs, held = pairs, list(heldout)
    else:
        train_pairs, held = split_holdout(pairs, config.holdout, config.seed)
    charset = check_trainable(pairs, source)
    trainer = Trainer(config, charset)
    ckpt = checkpoint_path(output)
    best_model, best_scores = None, None
    if resume:
        load_checkpoint(trainer, ckpt)
        log(f"resumed from {ckpt} at epoch {trainer.epoch}")
    x_all, y_all = step_inputs(train_pairs, charset)
    x_float = x_all.astype(np.float32)
    held_xy = step_inputs(held, charset) if held else None
    log(f"training on {len(train_pairs)} pairs ({len(x_all)} steps), "
        f"{len(held)} held-out pairs, charset {charset[:-1]!r} + EOS, "
        f"layers {[INPUT_SIZE] + config.hidden_sizes + [len(charset)]}, shifts {trainer.shifts}")
    meta = {"hidden_sizes": config.hidden_sizes, "sparsity": config.sparsity,
            "seed": config.seed, "epochs": config.epochs, **(metadata or {})}
    start = time.monotonic()
    interrupted = False
    try:
        while trainer.epoch < config.epochs:
            alpha = trainer.alpha()
            order = trainer.rng.permutation(len(x_float))
            losses = []
            trainer.hits = 0
            for lo in range(0, len(order), config.batch_size):
                idx = order[lo:lo + config.batch_size]
                losses.append(trainer.step(x_float[idx], y_all[idx], alpha))
            trainer.epoch += 1
            model = trainer.export(meta)
            scores = evaluate(model, train_pairs, (x_all, y_all))
            key = (scores.exact, scores.per_char)
            # only fully quantized epochs compete: earlier ones are not what was trained
            if alpha >= 1.0 and key > trainer.best_key:
                best_model, best_scores, trainer.best_key = model, scores, key
                save_model(best_model, output)
            held_text = ""
            if held:
                hs = evaluate(model, held, held_xy)
                held_text = f" held-out {hs.exact:.1%}"
            log(f"epoch {trainer.epoch:3d}/{config.epochs} loss {np.mean(losses):.3f} "
                f"quant {alpha:.2f} train-path {trainer.hits / len(order):.1%} | integer: exact {scores.exact:.2%} per-char "
                f"{scores.per_char:.2%}{held_text} overflow {scores.overflow_steps:.1%} | "
                f"best {best_text(trainer.best_key)} | {time.monotonic() - start:.0f}s")
            save_checkpoint(trainer, ckpt)
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: keeping the best model so far")
    if best_model is None and trainer.best_key[0] >= 0 and output.is_file():
        # resumed, and no epoch of this run beat the model saved before: keep that one
        best_model = load_model(output)
        best_scores = evaluate(best_model, train_pairs, (x_all, y_all))
    if best_model is None:
        best_model = trainer.export(meta)
        best_scores = evaluate(best_model, train_pairs, (x_all, y_all))
    best_model.metadata["train_exact"] = best_scores.exact
    if held:
        best_model.metadata["heldout_exact"] = evaluate(best_model, held).exact
    best_model.metadata["train_seconds"] = round(time.monotonic() - start, 1)
    save_model(best_model, output)
    if interrupted:
        raise TrainingInterrupted(output)
    return best_model, best_scores
