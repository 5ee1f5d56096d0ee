"""Write the saved-model fixtures: models fitted and saved by gdlinreg at one commit, which
later versions must load and predict the same with (or refuse with the documented
persistence-version message).

Run from the repository root, with gdlinreg at the commit named in MANIFEST.json importable::

    python tests/data/saved_models/make.py

It writes one pickle and one skops file per model, the query points and each model's
predictions at save time, and MANIFEST.json. Rerunning it with a later gdlinreg would make
the fixtures test nothing: the files are written once and kept.
"""

from __future__ import annotations

import json
import pickle
import subprocess
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
import skops
import skops.io as sio

import gdlinreg
from gdlinreg import GDLinearRegressor

HERE = Path(__file__).parent


def models() -> dict[str, GDLinearRegressor]:
    rng = np.random.default_rng(20261202)
    X = rng.standard_normal((80, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 5.0, -2.0, 100.0]
    y = X @ [1.0, -0.5, 4.0, 0.25] + 2.0 + 0.1 * rng.standard_normal(80)
    w = rng.uniform(0.5, 2.0, 80)
    fitted = {
        "default": GDLinearRegressor().fit(X, y),
        "weighted-multi-output": GDLinearRegressor().fit(X, np.c_[y, -y + 1.0], sample_weight=w),
        "gd-path": GDLinearRegressor(
            solver="gd", learning_rate=1e-4, max_iter=30, tol=None, store_path=True
        ).fit(X, y),
        "sgd": GDLinearRegressor(batch_size=8, random_state=3, max_iter=20, tol=None).fit(X, y),
        "huber-l2": GDLinearRegressor(loss="huber", penalty="l2", alpha=0.1, max_iter=3000).fit(
            X, y
        ),
        "sparse": GDLinearRegressor().fit(sp.csr_matrix(np.where(X > 0.5, X, 0.0)), y),
    }
    stream = GDLinearRegressor()
    stream.partial_fit(X[:40], y[:40]).partial_fit(X[40:], y[40:])
    fitted["partial-fit"] = stream
    return fitted


def main() -> None:
    rng = np.random.default_rng(7)
    X_query = rng.standard_normal((10, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 5.0, -2.0, 100.0]
    np.save(HERE / "X_query.npy", X_query)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    manifest = {
        "gdlinreg": gdlinreg.__version__,
        "commit": commit,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
        "models": [],
    }
    for name, model in models().items():
        with open(HERE / f"{name}.pkl", "wb") as f:
            pickle.dump(model, f, protocol=4)
        sio.dump(model, HERE / f"{name}.skops")
        np.save(HERE / f"{name}.predict.npy", model.predict(X_query))
        manifest["models"].append(name)
    (HERE / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
