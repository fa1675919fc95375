"""The exception types of faceterm: one base class, one subclass per boundary."""


class FacetermError(Exception):
    """Base class of every error faceterm raises on purpose."""


class ConfigError(FacetermError):
    """The configuration file is missing, malformed or invalid (message names key and line)."""


class CardReaderError(FacetermError):
    """The ID-card reader link or protocol failed."""


class CameraError(FacetermError):
    """The camera could not be opened or stopped delivering frames."""


class ModelError(FacetermError):
    """A model file is missing, tampered with or has an unexpected shape."""


class PublishError(FacetermError):
    """Signing, sealing, storing or publishing a result failed."""


class CommandRejected(FacetermError):
    """A fleet command was refused; `reason` is a stable machine-readable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class CommandRefused(CommandRejected):
    """A verified command refused by policy before it changed anything (reply REJECTED, not
    FAILED): e.g. a threshold outside the model's range without an admin override."""
