"""The one exception type the command line turns into a clear message (no traceback)."""


class OverfitError(Exception):
    """A problem the user can fix: bad data, a bad config value, a missing file."""


class DataError(OverfitError):
    """Data that is missing, truncated, corrupted or not what the checksums say."""


class ConfigError(OverfitError):
    """A config value that the schema admits but the pipeline cannot use."""
