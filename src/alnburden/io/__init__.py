"""Reading and writing the project's files: tables (CSV + Markdown), images and masks
(one reader for every pixel the workflow reads), and rule logs."""

from alnburden.io.logs import RepeatedMessageFilter, quiet_logger, setup_logging
from alnburden.io.tables import read_table, write_table

__all__ = ["RepeatedMessageFilter", "quiet_logger", "read_table", "setup_logging", "write_table"]
