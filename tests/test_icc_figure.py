"""The ICC distribution figure (alnburden.figures.robustness)."""

import numpy as np
import pandas as pd
import pytest

from alnburden.figures.robustness import _short, plot_icc_distribution


def test_icc_figure_writes_pdf_and_png(tmp_path):
    rng = np.random.default_rng(0)
    names = [f"{region}_{t}_{cls}_F{i}" for region in ("intra", "peri3mm")
             for t in ("original", "log-sigma-1-0-mm-3D", "wavelet-HH")
             for cls in ("firstorder", "glcm", "ngtdm") for i in range(4)]
    icc = rng.uniform(-0.2, 1, len(names))
    table = pd.DataFrame({"feature": names, "icc": icc, "ci_low": icc - 0.1,
                          "ci_high": np.minimum(icc + 0.05, 1), "kept": icc - 0.1 >= 0.75})
    out = plot_icc_distribution(table, tmp_path / "icc.png", threshold=0.75)
    assert [p.suffix for p in out] == [".pdf", ".png"] and all(p.stat().st_size > 0 for p in out)
    assert _short("log-sigma-1-0-mm-3D") == "LoG 1 mm" and _short("wavelet-HH") == "wavelet HH"
    with pytest.raises(ValueError, match="keep_on='mean' is unknown"):
        plot_icc_distribution(table, tmp_path / "x.png", 0.75, keep_on="mean")
