"""TorchEstimatorMixin: what every neural estimator shares, and its one fit.

- the shared hyper-parameters (``device``, ``max_epochs``, ``batch_size``,
  ``lr``, ``weight_decay``, ``lr_schedule``, ``early_stopping``,
  ``validation_fraction``, ``n_iter_no_change``, ``tol``, ``verbose``,
  ``random_state``, ``warm_start``, ``distributed``) and their validation
  constraints;
- the one fit template of the classifiers and the generative models
  (:meth:`TorchEstimatorMixin._fit_network`): validate, encode the labels,
  draw the fit's :class:`~probmodels.engine.Seeds`, build the
  :class:`~probmodels.engine.Batch`, train the network through the
  :class:`~probmodels.engine.Trainer` with the call's strategy, and commit
  ``module_``, ``history_``, ``n_iter_`` and ``device_`` only when training
  succeeds (``warm_start`` and ``partial_fit`` train a copy);
- numpy at the boundary: inputs become tensors once, on the device, and
  outputs come back as numpy arrays;
- pickling across devices: a model trained on a GPU unpickles on a machine
  without one (everything is stored on the CPU and moved back on load).
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..base import (
    architecture,
    architecture_changes,
    restore_new_parameters,
    spawn_generators,
)
from ..engine import (
    Batch,
    Seeds,
    Trainer,
    TrainingConfig,
    call_strategy,
    fitting,
    numpy_to_tensors,
    resolve_device,
    seeded,
    tensors_to_numpy,
    torch_device,
)
from ..utils.chunks import iter_row_chunks
from ._labels import check_same_classes, fit_classes, label_codes

__all__ = ["TORCH_PARAMETER_CONSTRAINTS", "NetworkFit", "TorchEstimatorMixin"]

TORCH_PARAMETER_CONSTRAINTS: dict = {
    "device": [str],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "lr": [Interval(Real, 0.0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0.0, None, closed="left")],
    "lr_schedule": [StrOptions({"cosine", "constant"})],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0.0, 1.0, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0.0, None, closed="left"), None],
    "verbose": ["verbose"],
    "random_state": ["random_state", np.random.Generator],
    "warm_start": ["boolean"],
    "distributed": ["boolean", StrOptions({"auto"})],
}


@dataclass(frozen=True)
class NetworkFit:
    """What :meth:`TorchEstimatorMixin._fit_network` fitted on, for the caller.

    Parameters
    ----------
    X : ndarray
        The validated rows.
    rows : ndarray
        The rows as the network took them (scaled, for the generative
        models).
    codes : ndarray of int or None
        The label codes of a fit with labels.
    seeds : Seeds
        The fit's seeds (``score`` keys the Monte Carlo draws of scores).
    generative : GenerativeState or None
        What a generative model commits (its container and sampling stream,
        from ``GenerativeMixin._generative_state``); None for a classifier.
    """

    X: np.ndarray
    rows: np.ndarray
    codes: np.ndarray | None
    seeds: Seeds
    generative: object = None


class TorchEstimatorMixin:
    """Shared machinery of estimators that train a torch module.

    Subclasses implement ``_build_module(**shapes)``, a network with a
    ``loss(batch, generator)`` method (see :class:`~probmodels.engine.Trainer`),
    and ``_validate_training_rows``, and call :meth:`_fit_network` from
    ``fit`` / ``partial_fit``; the other hooks of the template have defaults.
    """

    def _check_parameter_values(self):
        """Entries of ``hidden_layer_sizes``: ints of at least 1 (or none).

        Called by :func:`~probmodels.base.validate_params` at the start of
        every fit, so that ``(0,)`` or ``(2.5,)`` is named here rather than
        failing inside torch (or, for 0, training a constant).
        """
        sizes = getattr(self, "hidden_layer_sizes", None)
        if sizes is None:
            return
        from sklearn.utils._param_validation import InvalidParameterError

        # Entries as given: np.ravel would turn (4, True) into [4, 1].
        entries = (
            [sizes] if np.ndim(sizes) == 0 else list(np.asarray(sizes, object).ravel())
        )
        bad = [
            v
            for v in entries
            if isinstance(v, bool) or not isinstance(v, Integral) or v < 1
        ]
        if bad:
            raise InvalidParameterError(
                f"hidden_layer_sizes must hold positive ints (units per layer); "
                f"got {sizes!r}."
            )

    # ------------------------------------------------------- the one fit
    #: Labels a fit needs: 2 for a classifier, 1 for a conditional model.
    _min_classes = 1
    #: Appended to the message for labels that are not classes.
    _labels_hint = ""

    def _fit_network(self, X, y, *, partial=False, classes=None) -> NetworkFit:
        """The fit of every neural estimator: validate, seed, train, commit.

        1. ``_validate_training_rows(X, reset)`` checks the rows;
           ``_fit_labels`` encodes y (None: no labels);
           ``_network_input(X, continuing)`` gives the rows the network
           reads (scaled, for the generative models).
        2. The call's strategy (one process, or DDP under ``torchrun``)
           settles ``random_state`` (every process agrees on one seed when it
           is None); the fit's generator is spawned from it, or kept from
           the last call when continuing, and every seed of the fit is drawn
           from it once (:class:`~probmodels.engine.Seeds`, in its
           documented order).
        3. The rows and labels become one :class:`~probmodels.engine.Batch`
           on the device (``_training_batch``; ``_label_tensor`` gives the
           labels' form); with ``early_stopping`` a validation part is held
           out.
        4. A new network (``_build_module(**_network_shapes(X, codes))``, built
           under ``seeds.init``) or a copy of the fitted one is trained by
           the :class:`~probmodels.engine.Trainer` on its own
           ``loss(batch, generator)``, and committed only when training
           succeeds. ``atomic_fit`` undoes everything else on failure.

        Parameters
        ----------
        X, y : array-like
            As given to ``fit`` / ``partial_fit``.
        partial : bool, default=False
            One epoch continuing the current module and optimiser state.
        classes : array-like, optional
            Every label, on ``partial_fit``'s first call.

        Returns
        -------
        NetworkFit
        """
        strategy = call_strategy()
        continuing = self._continuing(partial)
        fit_rng, generative = self._fit_streams(
            X, strategy.agreed_random_state(self.random_state)
        )
        X = self._validate_training_rows(X, reset=not continuing)
        codes = self._fit_labels(y, len(X), classes, continuing)
        rows = self._network_input(X, continuing)
        if continuing and hasattr(self, "_train_rng"):
            fit_rng = self._train_rng  # successive calls shuffle differently
        seeds = Seeds.draw(fit_rng)
        device = torch_device(strategy.device(resolve_device(self.device), self.device))
        batch = self._training_batch(rows, codes, device)
        settings = self._objective_settings(continuing, partial, len(X))
        stops_early = self.early_stopping and not partial
        train, valid, parts = batch, None, None
        if stops_early or len(settings) > 1:
            parts = self._split(len(batch), seeds.split, codes)
            train, valid = self._hold_out(batch, parts)
        # The shapes (and what a new network learns from the data, such as the
        # Transformer's bins) only when a new network is built.
        shapes = None if continuing else self._network_shapes(X, codes)

        def train_one(setting, rows_to_train):
            module = self._network_to_train(
                continuing, seeds.init, device, shapes, setting
            )
            trainer = Trainer(
                module,
                self._training_config(seeds, len(rows_to_train), partial),
                device,
                callbacks=self._training_callbacks(),
                strategy=strategy,
            )
            result = trainer.fit(
                rows_to_train,
                valid if stops_early else None,
                optimizer_state=(
                    self._optimizer_state if partial and continuing else None
                ),
                max_epochs=1 if partial else None,
            )
            return module, result

        if len(settings) == 1:
            setting, scores = settings[0], {settings[0]: None}
            module, result = train_one(setting, train)
        else:
            scores, kept = {}, {}
            for candidate in settings:
                kept[candidate] = train_one(candidate, train)
                scores[candidate] = self._held_out_score(
                    kept[candidate][0], rows, codes, parts, seeds
                )
            # A candidate whose score is NaN (it diverged) is never chosen.
            setting = max(settings, key=lambda c: np.nan_to_num(scores[c], nan=-np.inf))
            # Chosen, the setting is refitted on every row (GridSearchCV's
            # refit), unless early stopping needs the held-out part.
            module, result = (
                kept[setting] if stops_early else train_one(setting, batch)
            )
        self._commit_objective(setting, scores)
        self._commit_network(module, result, device, partial and continuing)
        self._train_rng = fit_rng
        return NetworkFit(X, rows, codes, seeds, generative)

    def _fit_streams(self, X, random_state):
        """The fit's generator, and the generative state a fit commits.

        A classifier commits none; the generative models take both from
        ``GenerativeMixin._generative_state``, the path every estimator's
        random streams come from.
        """
        return spawn_generators(random_state, 2)[0], None

    def _validate_training_rows(self, X, reset):
        """The rows of a fit, validated (``n_features_in_`` set when ``reset``)."""
        raise NotImplementedError

    def _fit_labels(self, y, n_rows, classes, continuing):
        """Codes of y (None without labels); sets ``classes_`` on a new fit.

        A continuing fit keeps the fitted classes: labels outside them, or
        ``classes`` that differ, are refused.
        """
        if continuing:
            if (y is None) != (self.classes_ is None):
                raise ValueError(
                    "warm_start continues the fitted model: pass labels y exactly "
                    "when it was fitted with them, or set warm_start=False."
                )
            if y is None:
                return None
            check_same_classes(classes, self.classes_)
            return label_codes(y, self.classes_, n_rows)
        if y is None:
            self.classes_ = None
            return None
        self.classes_, codes = fit_classes(
            y,
            n_rows,
            classes=classes,
            min_classes=self._min_classes,
            hint=self._labels_hint,
        )
        return codes

    def _network_input(self, X, continuing):
        """The rows as the network reads them (as they are by default)."""
        return X

    def _network_shapes(self, X, codes) -> dict:
        """Keyword arguments of ``_build_module`` for the data's shapes."""
        n_classes = 0 if codes is None else len(self.classes_)
        return {"n_features": X.shape[-1], "n_classes": n_classes}

    def _training_batch(self, rows, codes, device):
        """The batch of the training rows and their labels, on the device."""
        labels = None if codes is None else self._label_tensor(codes, device)
        return Batch(self._to_tensor(rows, device), labels)

    def _label_tensor(self, codes, device):
        """Labels as the network takes them: class codes (long)."""
        import torch

        return self._to_tensor(codes, device, dtype=torch.long)

    def _hold_out(self, batch, parts):
        """The training and validation parts of a batch (row indices ``parts``)."""
        import torch

        take = [torch.as_tensor(r, device=batch.device) for r in parts]
        return batch.rows(take[0]), batch.rows(take[1])

    def _network_to_train(self, continuing, seed, device, module_args, setting=None):
        """A new network built under ``seed``, or a copy of the fitted one.

        A copy, so a failed fit leaves the fitted module untouched;
        ``module_args`` (None when continuing) are ``_build_module``'s. Every
        candidate of :meth:`_objective_settings` starts from the same
        weights.
        """
        if continuing:
            module = copy.deepcopy(self.module_).to(device)
        else:
            with seeded(seed, device):
                module = self._build_module(**module_args).to(device)
            self._fitted_architecture = architecture(self)  # undone on failure
            self._module_args = dict(module_args)
        self._configure_objective(module, setting)
        return module

    def _configure_objective(self, module, setting=None) -> None:
        """Give the network this fit's settings of its loss (none by default).

        Hyper-parameters of the objective that are not architecture (the
        VAE's ``beta``, the DDPM's ``cond_drop_prob``) may change between
        warm-started fits; the network's ``loss`` reads them from itself.
        ``setting`` is the candidate of :meth:`_objective_settings` being
        trained.
        """

    # ------------------------------------------- settings chosen by held-out
    def _objective_settings(self, continuing: bool, partial: bool, n_rows: int) -> tuple:
        """Candidate settings of the objective, each trained by this fit.

        One (None, the default) trains one network, as every fit did. With
        more, the fit holds out ``validation_fraction`` of the rows (the part
        early stopping holds out), trains one network per candidate on the
        rest from the same initial weights and seeds, chooses the one with
        the best :meth:`_held_out_score` and trains it again on every row
        from the same start (the network trained on the rest is kept with
        early stopping, whose stopping rule reads the held-out part). The
        VAE's ``beta="auto"`` is such a choice.
        """
        return (None,)

    def _held_out_score(self, module, rows, codes, parts, seeds) -> float:
        """How well a trained candidate does on the held-out rows (higher wins).

        Parameters
        ----------
        module : torch.nn.Module
            The candidate's trained network.
        rows, codes
            All the rows as the network reads them, and their label codes.
        parts : tuple of ndarray
            Indices of the training and the held-out rows.
        seeds : Seeds
            The fit's seeds.
        """
        raise NotImplementedError

    def _commit_objective(self, setting, scores: dict) -> None:
        """Record the setting kept and each candidate's held-out score.

        ``scores`` maps each candidate to its score (None with one).
        """

    def _commit_network(self, module, result, device, continued):
        """Set the fitted network, its history and optimiser state."""
        previous = self.history_ if continued else []
        offset = self.n_iter_ if continued else 0
        for record in result.history:
            record["epoch"] += offset
        self.module_ = module
        self.history_ = previous + result.history
        self.n_iter_ = offset + result.n_epochs
        self.device_ = str(device)
        self._optimizer_state = result.optimizer_state

    # ---------------------------------------------------------- training
    def _batch_size(self, n_rows: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_rows)
        return min(int(self.batch_size), n_rows)

    def _training_config(self, seeds, n_rows: int, partial: bool):
        """The engine's settings for this fit.

        ``partial_fit`` runs one epoch at a constant rate (there is no horizon
        to anneal over) and never stops early.
        """
        return TrainingConfig(
            max_epochs=self.max_epochs,
            batch_size=self._batch_size(n_rows),
            lr=self.lr,
            weight_decay=self.weight_decay,
            lr_schedule="constant" if partial else self.lr_schedule,
            early_stopping=self.early_stopping and not partial,
            n_iter_no_change=self.n_iter_no_change,
            tol=None if partial else self.tol,
            verbose=self.verbose,
            seeds=seeds,
            description=type(self).__name__,
        )

    def _fitting_context(self, method: str):
        """The data-parallel context of a fitting call (used by ``atomic_fit``).

        Under ``torchrun`` (or in a process group), with ``distributed`` not
        False, the call trains data-parallel; see
        :mod:`probmodels.engine`.
        """
        return fitting(
            type(self).__name__,
            method,
            self.get_params(deep=False),
            getattr(self, "distributed", "auto"),
            self.device,
        )

    def _to_tensor(self, array, device, dtype=None):
        """A tensor on ``device`` (float32 unless ``dtype``), copied once.

        Training data that do not fit in the GPU's memory stay in pinned host
        memory; the engine then moves one batch at a time.
        """
        import torch

        host = torch.tensor(
            np.asarray(array), dtype=torch.float32 if dtype is None else dtype
        )
        if torch.device(device).type != "cuda":
            return host
        try:
            return host.to(device)
        except torch.cuda.OutOfMemoryError:
            warnings.warn(
                f"The data ({host.nbytes / 2**30:.1f} GiB) do not fit on {device}; "
                "they stay in host memory and move one batch at a time.",
                ResourceWarning,
                stacklevel=4,
            )
            return host.pin_memory()

    def _training_callbacks(self) -> list:
        """Engine hooks this model adds to training (an EMA of the weights, say)."""
        return []

    def _split(self, n_rows: int, seed: int, stratify=None):
        """Train / validation row indices (early stopping, held-out choices).

        Stratified by ``stratify`` (class codes) when every class has two
        rows to split and each part can hold every class, as scikit-learn's
        MLP does; else a plain random split.
        """
        from sklearn.model_selection import train_test_split

        idx = np.arange(n_rows)
        if stratify is not None:
            counts = np.bincount(stratify)
            n_held_out = int(np.ceil(self.validation_fraction * n_rows))
            n_classes = int((counts > 0).sum())
            fits = min(n_held_out, n_rows - n_held_out) >= n_classes
            stratify = stratify if fits and counts[counts > 0].min() >= 2 else None
        try:
            return train_test_split(
                idx,
                test_size=self.validation_fraction,
                stratify=stratify,
                random_state=seed,
            )
        except ValueError as err:
            reason, remedy = self._held_out_purpose()
            raise ValueError(
                f"{reason} could not hold out validation_fraction="
                f"{self.validation_fraction} of {n_rows} rows ({err}). Use more "
                f"data, a larger validation_fraction, or {remedy}."
            ) from None

    def _held_out_purpose(self) -> tuple[str, str]:
        """What holds rows out, and the setting that holds out none.

        For the message when the rows cannot be split.
        """
        return "early_stopping", "early_stopping=False"

    def _continuing(self, partial: bool) -> bool:
        """Whether this call trains the fitted module further.

        ``warm_start`` continues only a network of the same architecture (the
        parameters in ``_architecture_params``); after ``set_params`` changes
        one, ``fit`` builds the new network, and ``partial_fit`` says so.
        """
        if not hasattr(self, "module_") or not (partial or self.warm_start):
            return False
        changed = architecture_changes(self)
        if changed and partial:
            raise ValueError(
                f"partial_fit continues the fitted network, but {', '.join(changed)} "
                "changed since it was fitted. Call fit to build the new network."
            )
        return not changed

    # --------------------------------------------------------- inference
    def _forward_numpy(self, X, dtype=None):
        """Outputs of ``module_`` for the rows of X, in eval mode, as numpy."""
        import torch

        check_is_fitted(self, "module_")
        module = self.module_
        device = next(module.parameters()).device
        was_training = module.training
        module.eval()
        outputs = []
        with torch.inference_mode():
            # Blocks by the size of their input rows (float32).
            for rows in iter_row_chunks(len(X), 4 * max(1, X[:1].size)):
                batch = self._to_tensor(X[rows], device, dtype)
                outputs.append(module(batch).float().cpu().numpy())
        module.train(was_training)
        return np.concatenate(outputs) if outputs else np.empty((0,))

    # ----------------------------------------------------------- pickling
    def __getstate__(self):
        """The fitted state as arrays and plain values: no torch object.

        The module becomes its ``state_dict`` as numpy arrays and the
        optimiser state likewise, so pickle, joblib and skops (which refuses
        torch objects; see :func:`probmodels.save`) all store the same thing,
        and a model trained on a GPU loads on a machine without one.
        """
        state = dict(super().__getstate__())
        module = state.get("module_")
        if hasattr(module, "state_dict"):
            state["module_"] = tensors_to_numpy(dict(module.state_dict()))
        if state.get("_optimizer_state") is not None:
            state["_optimizer_state"] = tensors_to_numpy(state["_optimizer_state"])
        return state

    def __setstate__(self, state):
        """Rebuild the module from the parameters and load its weights.

        It goes to the device it was trained on when that exists here, and to
        the CPU otherwise.
        """
        super().__setstate__(state)
        restore_new_parameters(self)
        device = self.__dict__.get("device_", "cpu")
        if device != "cpu":
            import torch

            if not (device.startswith("cuda") and torch.cuda.is_available()):
                device = self.device_ = "cpu"
        weights = self.__dict__.get("module_")
        if isinstance(weights, dict):
            self.module_ = self._rebuild_module(weights).to(device)
        elif weights is not None:  # a file written before weights were arrays
            self.module_ = weights.to(device)
        if isinstance(self.__dict__.get("_optimizer_state"), dict):
            self._optimizer_state = numpy_to_tensors(self._optimizer_state)

    def _rebuild_module(self, weights: dict):
        """The fitted module, built as at fit time and given ``weights``.

        Built with the architecture that was fitted (``set_params`` may have
        changed it since) under a fixed seed, so torch's global generator is
        left alone; every weight is then overwritten.
        """
        import torch

        builder = object.__new__(type(self))  # not copy.copy: no pickling round
        builder.__dict__.update(self.__dict__)
        builder.__dict__.update(getattr(self, "_fitted_architecture", {}))
        with seeded(0, torch.device("cpu")):
            module = builder._build_module(**self._module_args)
        module.load_state_dict(
            {k: torch.from_numpy(np.array(v)) for k, v in weights.items()}
        )
        return module
