"""How the clinical predictors are chosen and estimated: the strategies of
``models.clinical_strategy`` and their parameters (:class:`ClinicalSettings`)."""

from __future__ import annotations

from dataclasses import dataclass


#: The predictor strategies of ``models.clinical_strategy``.
STRATEGIES = ("p_value", "prespecified", "penalized")


@dataclass(frozen=True)
class ClinicalSettings:
    """How the clinical predictors are chosen and estimated (config ``models``).

    Attributes
    ----------
    strategy
        ``p_value``, ``prespecified`` or ``penalized`` (``models.clinical_strategy``).
    entry_p, retention_p
        Univariable entry and multivariable retention p-values of ``p_value`` (0-1;
        ``models.clinical_entry_p``, ``models.clinical_retention_p``).
    l1_ratio
        Mix of the ``penalized`` strategy: 1 = L1 (LASSO), between 0 and 1 elastic net
        (``models.clinical_l1_ratio``).
    n_cs
        Penalty strengths tried by its CV (log-spaced, ``models.clinical_penalty_cs``).
    cv_folds
        Folds of its CV (``models.cv_folds``).
    random_state
        Seed of its CV folds and of saga (the config's ``seed``).
    """

    strategy: str
    entry_p: float
    retention_p: float
    l1_ratio: float
    n_cs: int
    cv_folds: int
    random_state: int

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"models.clinical_strategy is {self.strategy!r}; use one of "
                             f"{', '.join(STRATEGIES)}")

    @classmethod
    def from_config(cls, models: dict | None, seed: int | None = None) -> ClinicalSettings:
        """The settings of the config's ``models`` section over the schema's defaults."""
        from alnburden.schemas import config_default, with_defaults

        m = with_defaults("models", models)
        return cls(strategy=str(m["clinical_strategy"]), entry_p=float(m["clinical_entry_p"]),
                   retention_p=float(m["clinical_retention_p"]),
                   l1_ratio=float(m["clinical_l1_ratio"]), n_cs=int(m["clinical_penalty_cs"]),
                   cv_folds=int(m["cv_folds"]),
                   random_state=int(config_default("seed") if seed is None else seed))

    @property
    def penalty(self) -> dict | None:
        """The :class:`LogisticModel` ``penalty`` of the clinical model (None: unpenalized)."""
        if self.strategy != "penalized":
            return None
        return {"l1_ratio": self.l1_ratio, "n_cs": self.n_cs, "cv_folds": self.cv_folds,
                "random_state": self.random_state}

    def describe(self) -> str:
        """One sentence naming the strategy and its parameters."""
        if self.strategy == "p_value":
            return (f"univariable p < {self.entry_p:g} then multivariable p < "
                    f"{self.retention_p:g}")
        if self.strategy == "prespecified":
            return "every declared variable (prespecified, no selection)"
        kind = "L1 (LASSO)" if self.l1_ratio == 1 else f"elastic net (l1_ratio {self.l1_ratio:g})"
        return (f"{kind} penalized logistic regression, penalty chosen by {self.cv_folds}-fold "
                f"CV of the log-loss over {self.n_cs} strengths")
