"""TorchEstimatorMixin: what every neural estimator shares.

- the shared hyper-parameters (``device``, ``max_epochs``, ``batch_size``,
  ``lr``, ``weight_decay``, ``lr_schedule``, ``early_stopping``,
  ``validation_fraction``, ``n_iter_no_change``, ``tol``, ``verbose``,
  ``random_state``, ``warm_start``) and their validation constraints;
- training through the one :class:`~probmodels.nn._engine.Trainer`, building
  the module under a seeded RNG, and committing ``module_``, ``history_``,
  ``n_iter_`` and ``device_`` only when training succeeds (``warm_start`` and
  ``partial_fit`` train a copy);
- numpy at the boundary: inputs become tensors once, on the device, and
  outputs come back as numpy arrays;
- pickling across devices: a model trained on a GPU unpickles on a machine
  without one (everything is stored on the CPU and moved back on load).
"""

from __future__ import annotations

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._chunks import iter_row_chunks
from ..base import architecture, architecture_changes, child_seed, spawn_generators
from ._device import (
    numpy_to_tensors,
    resolve_device,
    tensors_to_numpy,
    torch_device,
)
from ._distributed import agreed_random_state, current, fitting, process_device
from ._engine import Trainer, TrainingConfig, seeded

__all__ = ["TORCH_PARAMETER_CONSTRAINTS", "TorchEstimatorMixin"]

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


class TorchEstimatorMixin:
    """Shared machinery of estimators that train a torch module.

    Subclasses implement ``_build_module(**shapes)`` (an ``nn.Module``) and
    ``_loss(module, *batch)`` (a scalar tensor), and call :meth:`_train`
    from ``fit`` / ``partial_fit`` with tensors from :meth:`_to_tensor`. A
    loss that draws noise sets ``_noisy_loss = True`` and takes a
    ``generator`` keyword (see :class:`~probmodels.nn._engine.Trainer`).
    """

    _noisy_loss = False

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

    # ---------------------------------------------------------- training
    def _batch_size(self, n_rows: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_rows)
        return min(int(self.batch_size), n_rows)

    def _training_config(self, seed: int, n_rows: int, partial: bool):
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
            seed=seed,
            description=type(self).__name__,
        )

    def _device(self):
        name = resolve_device(self.device)
        return torch_device(process_device(name, self.device))

    def _fitting_context(self, method: str):
        """The data-parallel context of a fitting call (used by ``atomic_fit``).

        Under ``torchrun`` (or in a process group), with ``distributed`` not
        False, the call trains data-parallel; see
        :mod:`probmodels.nn._distributed`.
        """
        return fitting(self, method, getattr(self, "distributed", "auto"), self.device)

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
        """Train / validation row indices for early stopping.

        Stratified by ``stratify`` (class codes) when every class has two
        rows to split, as scikit-learn's MLP does.
        """
        from sklearn.model_selection import train_test_split

        idx = np.arange(n_rows)
        if stratify is not None:
            counts = np.bincount(stratify)
            stratify = stratify if counts[counts > 0].min() >= 2 else None
        try:
            return train_test_split(
                idx,
                test_size=self.validation_fraction,
                stratify=stratify,
                random_state=seed,
            )
        except ValueError as err:
            raise ValueError(
                f"early_stopping could not hold out validation_fraction="
                f"{self.validation_fraction} of {n_rows} rows ({err}). Use more "
                "data, a larger validation_fraction, or early_stopping=False."
            ) from None

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

    def _training_rng(self, continuing: bool) -> np.random.Generator:
        """The generator seeds of this fit are drawn from.

        Made afresh from ``random_state`` when training starts over, so a
        seeded fit repeats; kept when continuing, so successive
        ``partial_fit`` calls shuffle differently.
        """
        if not continuing or not hasattr(self, "_train_rng"):
            seed = agreed_random_state(self.random_state)
            self._train_rng = spawn_generators(seed, 1)[0]
        return self._train_rng

    def _train(self, train, valid, module_args, *, partial: bool = False, rng=None):
        """Train a module and commit it with its history.

        Parameters
        ----------
        train : tuple of torch.Tensor
            Training tensors from :meth:`_to_tensor` (on the device, or in
            host memory when they did not fit there).
        valid : tuple of torch.Tensor or None
            Validation tensors (with ``early_stopping``).
        module_args : dict
            Keyword arguments of ``_build_module`` for a fresh module (the
            data's shapes); kept, so that loading a saved model rebuilds it.
        partial : bool
            One epoch continuing the current module and optimiser state.
        rng : numpy.random.Generator, optional
            This fit's generator, when the caller already drew from it (for a
            validation split); by default :meth:`_training_rng`.
        """
        device = self._device()
        continuing = self._continuing(partial)
        rng = self._training_rng(continuing) if rng is None else rng
        init_seed, train_seed = child_seed(rng), child_seed(rng)
        if continuing:
            # Train a copy: a failure must leave the fitted module untouched.
            module = copy.deepcopy(self.module_).to(device)
        else:
            with seeded(init_seed, device):
                module = self._build_module(**module_args).to(device)
            self._fitted_architecture = architecture(self)  # undone on failure
            self._module_args = dict(module_args)
        config = self._training_config(train_seed, len(train[0]), partial)
        trainer = Trainer(
            module,
            self._loss,
            config,
            device,
            callbacks=self._training_callbacks(),
            noise=self._noisy_loss,
            parallel=current(),
        )
        result = trainer.fit(
            train,
            valid,
            optimizer_state=self._optimizer_state if partial and continuing else None,
            max_epochs=1 if partial else None,
        )
        previous = self.history_ if partial and continuing else []
        offset = self.n_iter_ if partial and continuing else 0
        for record in result.history:
            record["epoch"] += offset
        self.module_ = module
        self.history_ = previous + result.history
        self.n_iter_ = offset + result.n_epochs
        self.device_ = str(device)
        self._optimizer_state = result.optimizer_state
        return result

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
        with torch.no_grad():
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
