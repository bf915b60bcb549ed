"""Rule unpack_bundle: the bundle zip unpacked and verified against its checksums."""

from typing import TYPE_CHECKING

from alnburden.external.bundle import unpack_bundle
from alnburden.io import setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
bundle = unpack_bundle(snakemake.input[0], snakemake.output[0])
log.info("bundle %s of study %r verified: levels %s", snakemake.input[0], bundle.meta["study"],
         [lv["name"] for lv in bundle.levels])
