"""
Normalization layers for a feed-forward classifier
==================================================

A grid search over the normalization layer of :class:`probmodels.FFNClassifier`
(none, batch, layer, group) on the digits, inside a pipeline that
standardises the pixels first. Each candidate trains with early stopping on a
held-out tenth, and its per-epoch training and validation losses come from
``history_``.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from probmodels import FFNClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

clf = FFNClassifier(
    hidden_layer_sizes=(128, 64),
    n_groups=8,
    max_epochs=60,
    batch_size=64,
    lr=2e-3,
    early_stopping=True,
    n_iter_no_change=8,
    device="cpu",
    random_state=0,
)
pipe = make_pipeline(StandardScaler(), clf)
norms = [None, "batch", "layer", "group"]
search = GridSearchCV(pipe, {"ffnclassifier__normalization": norms}, cv=3)
search.fit(X_train, y_train)
scores = search.cv_results_["mean_test_score"]
for norm, score in zip(norms, scores, strict=True):
    print(f"normalization={norm!s:<6} cross-validated accuracy {score:.4f}")
print(f"best: {search.best_params_}, test accuracy {search.score(X_test, y_test):.4f}")

# %%
# Refit each candidate on the whole training set and plot its curves.
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
for norm in norms:
    model = pipe.set_params(ffnclassifier__normalization=norm).fit(X_train, y_train)
    history = pd.DataFrame(model[-1].history_)
    label = f"{norm or 'none'} (stopped at epoch {model[-1].n_iter_})"
    axes[0].plot(history["epoch"], history["train_loss"], label=label)
    axes[1].plot(history["epoch"], history["valid_loss"], label=label)
axes[0].set(title="training loss", xlabel="epoch", ylabel="cross-entropy", yscale="log")
axes[1].set(title="validation loss (early stopping keeps the minimum)", xlabel="epoch")
axes[1].legend()
fig.tight_layout()

out = sys.argv[1] if len(sys.argv) > 1 else "plot_classifier_grid.png"
fig.savefig(out, dpi=100)
print(f"saved {out}")
