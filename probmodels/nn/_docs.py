"""The shared hyper-parameters' documentation, written once.

Every neural estimator takes the parameters of
:data:`~probmodels.nn._base.TORCH_PARAMETER_CONSTRAINTS`. Their descriptions
live here, with those of the fitted attributes they share;
:func:`document_torch_parameters` writes them into a class's docstring where
it says ``%(torch_parameters)s`` and ``%(torch_attributes)s``, with that class's own
defaults read from its ``__init__`` (statsmodels' ``Appender`` and
matplotlib's ``_docstring.interpd`` do the same), so ``help()`` on any
estimator is complete on its own.
"""

from __future__ import annotations

import inspect

from ..utils.docs import fill_docstring, numpydoc_entries

__all__ = [
    "TORCH_ATTRIBUTE_DOCS",
    "TORCH_PARAMETER_DOCS",
    "document_torch_parameters",
    "torch_parameters_doc",
]

#: name -> (type, description) of each shared hyper-parameter.
TORCH_PARAMETER_DOCS: dict[str, tuple[str, str]] = {
    "device": (
        "str",
        '"auto" (CUDA when available, else the CPU), "cpu", "cuda" or "cuda:N".',
    ),
    "max_epochs": ("int", "Passes over the training data."),
    "batch_size": (
        'int or "auto"',
        'Rows per optimiser step; "auto" is ``min(200, n_samples)``, as '
        "scikit-learn's MLP.",
    ),
    "lr": ("float", "Initial learning rate of AdamW."),
    "weight_decay": ("float", "AdamW's decoupled weight decay."),
    "lr_schedule": (
        '{"cosine", "constant"}',
        "Cosine annealing from ``lr`` to 0 over all steps, "
        "``lr_t = lr (1 + cos(pi t / T)) / 2`` (Loshchilov and Hutter, 2017), "
        "or a constant rate.",
    ),
    "early_stopping": (
        "bool",
        "Hold out ``validation_fraction`` of the rows (stratified by class for "
        "classifiers), stop when the validation loss has not improved by "
        "``tol`` for ``n_iter_no_change`` epochs, and restore the best weights.",
    ),
    "validation_fraction": (
        "float",
        "Share of the rows held out with ``early_stopping``.",
    ),
    "n_iter_no_change": (
        "int",
        "Epochs without an improvement by ``tol`` that stop training.",
    ),
    "tol": (
        "float or None",
        "Without early stopping, training stops when the training loss has not "
        "improved by ``tol`` for ``n_iter_no_change`` epochs; None always runs "
        "``max_epochs``.",
    ),
    "verbose": ("int", "1 shows a progress bar with the running loss."),
    "random_state": (
        "int, RandomState, Generator or None",
        "Seeds initialisation, shuffling and every random draw of training; "
        "a CPU fit repeats exactly. Global RNG state is not touched.",
    ),
    "warm_start": ("bool", "Continue from the current weights on the next ``fit``."),
    "distributed": (
        'bool or "auto"',
        "Data-parallel training under ``torchrun`` (or in a process group "
        "already initialised): each process computes its share of every "
        "global batch of ``batch_size`` rows and DDP averages the gradients, "
        'giving the model one process would. "auto" does so when the group '
        "has several processes; False fits each process on its own (a grid "
        "search under torchrun); True also in a group of one, and raises "
        'without a group. See the user guide\'s "Scaling out" page.',
    ),
}

#: name -> (type, description) of the fitted attributes every neural
#: estimator has.
TORCH_ATTRIBUTE_DOCS: dict[str, tuple[str, str]] = {
    "module_": ("torch.nn.Module", "The trained network."),
    "history_": (
        "list of dict",
        "One record per epoch: ``epoch``, ``train_loss``, ``valid_loss`` (with "
        "early stopping), ``lr`` (at the end of the epoch), ``duration`` "
        "(seconds).",
    ),
    "n_iter_": ("int", "Epochs run, over every fit and partial_fit call."),
    "device_": ("str", "Where the network lives."),
}

_PARAMETERS, _ATTRIBUTES = "%(torch_parameters)s", "%(torch_attributes)s"


def torch_parameters_doc(cls) -> str:
    """The numpydoc entries of the shared parameters, with ``cls``'s defaults.

    Parameters
    ----------
    cls : type
        An estimator whose ``__init__`` takes the shared parameters.

    Returns
    -------
    str
        Unindented numpydoc parameter entries.
    """
    signature = inspect.signature(cls.__init__).parameters
    defaults = {name: signature[name].default for name in TORCH_PARAMETER_DOCS}
    return numpydoc_entries(TORCH_PARAMETER_DOCS, defaults)


def document_torch_parameters(cls):
    """Class decorator: put the shared docs where the markers are.

    The marker ``%(torch_parameters)s`` stands on its own line in the
    Parameters section, ``%(torch_attributes)s`` in the Attributes section,
    each indented as the entries around it.

    Parameters
    ----------
    cls : type

    Returns
    -------
    type
        ``cls``, its docstring completed.
    """
    return fill_docstring(
        cls,
        {
            _PARAMETERS: torch_parameters_doc,
            _ATTRIBUTES: numpydoc_entries(TORCH_ATTRIBUTE_DOCS),
        },
    )
