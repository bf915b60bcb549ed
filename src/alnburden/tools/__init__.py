"""Developer tools that run the whole workflow: benchmarks (:mod:`~alnburden.tools.bench`,
:mod:`~alnburden.tools.scaling`), calibration of the in-silico cohort over seeds
(:mod:`~alnburden.tools.calibrate`) and the runner they share (:mod:`~alnburden.tools.runs`).
They need a checkout of the repository (they run its Snakefile)."""
