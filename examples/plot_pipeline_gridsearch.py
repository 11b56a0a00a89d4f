"""
A VAE as a feature extractor in a grid-searched pipeline
========================================================

:class:`probmodels.VAE` is a scikit-learn transformer: ``transform`` gives
the posterior mean of each row's latent code. Here it compresses the 64
pixels of the digits to a few dimensions before a logistic regression, and
``GridSearchCV`` picks the latent size and the regularisation by
cross-validated accuracy. A ``Pipeline`` passes the labels to every step, and
``fit(X, y)`` would train a *conditional* VAE, whose codes leave the label
out; ``conditional=False`` makes the VAE ignore them, so only the classifier
sees the labels. The figure shows the accuracy of each candidate and the test rows in
the chosen model's first two latent dimensions.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from probmodels import VAE

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
pipe = Pipeline(
    [
        ("scale", MinMaxScaler(clip=True)),  # [0, 1] for a Bernoulli decoder
        (
            "vae",
            VAE(
                likelihood="bernoulli",
                conditional=False,  # unsupervised: the pipeline's y is ignored
                # Features, not samples: the standard VAE, trained once per
                # fit rather than choosing beta on held-out rows.
                beta=1.0,
                hidden_layer_sizes=(128,),
                batch_size=64,
                max_epochs=40,
                lr=3e-3,
                random_state=0,
            ),
        ),
        ("clf", LogisticRegression(max_iter=2000)),
    ]
)
grid = {"vae__latent_dim": [2, 10], "clf__C": [0.1, 10.0]}
search = GridSearchCV(pipe, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0))
search.fit(X_train, y_train)
results = pd.DataFrame(search.cv_results_["params"]).assign(
    accuracy=search.cv_results_["mean_test_score"]
)
print(results.round(3))
print(f"best {search.best_params_}: test accuracy {search.score(X_test, y_test):.3f}")

# %%
# Accuracy by candidate, and the test digits in the chosen latent space.
best = search.best_estimator_
Z = best[:-1].transform(X_test)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
labels = [
    f"latent {d}, C={c}"
    for d, c in zip(results["vae__latent_dim"], results["clf__C"], strict=True)
]
left.barh(labels, results["accuracy"], color="C0")
left.set_xlim(0.5, 1.0)
left.set_xlabel("cross-validated accuracy")
points = right.scatter(Z[:, 0], Z[:, 1], c=y_test, cmap="tab10", s=8)
right.set(xlabel="latent 1", ylabel="latent 2", title="test digits, posterior means")
fig.colorbar(points, ax=right, label="digit")
fig.tight_layout()

out = sys.argv[1] if len(sys.argv) > 1 else "plot_pipeline_gridsearch.png"
fig.savefig(out, dpi=100)
print(f"saved {out}")
