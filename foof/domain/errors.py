"""Domain errors. Each wire face maps these to its own messages in one place."""


class DomainError(Exception):
    """Base class: a handled failure that a face turns into a reply (never a 500)."""


class Invalid(DomainError):
    """Input that breaks a rule (missing, wrong type, out of range)."""


class TooLong(Invalid):
    """A text value longer than its column allows (255)."""


class NotFound(DomainError):
    """The addressed row does not exist (or is deleted)."""


class UserNotFound(NotFound):
    pass


class ItemNotFound(NotFound):
    pass


class MessageNotFound(NotFound):
    pass


class NotOwner(DomainError):
    """The caller may not act on this row."""


class NotForTrade(DomainError):
    """The item is not in a state that allows this transition."""


class WrongPassword(DomainError):
    pass


class AccountDisabled(DomainError):
    """The password was right but staff disabled the account (``account_blocks``)."""


class PhoneTaken(DomainError):
    pass


class TooFrequent(DomainError):
    """A rate limit refused the request."""


class NoLiveCode(DomainError):
    """No unexpired, unused, unburned verification code for this phone number."""


class BadCode(DomainError):
    """A live code exists but this one is wrong (one try spent)."""


class BadToken(DomainError):
    """A token that is malformed, forged, expired, of the wrong kind or for a gone user."""


class NotAnImage(Invalid):
    """An upload that does not decode as an accepted image."""


class SendFailed(DomainError):
    """The SMS gateway or the mail server refused or could not be reached."""


class StorageRejected(DomainError):
    """The database refused a value (e.g. a 4-byte character on an old utf8 table)."""
