"""Storage: an async repository in the words of the domain. Knows nothing of Telegram."""

from storage.crypto import Cipher, load_or_create_key
from storage.database import Database
from storage.inbox import Inbox
from storage.repository import Store

__all__ = ["Cipher", "Database", "Inbox", "Store", "load_or_create_key"]
