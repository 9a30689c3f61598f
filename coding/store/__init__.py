"""The project database: the only package that writes SQL."""
from coding.store.database import backup, connect, write_transaction
from coding.store.migrations import MIGRATIONS, applied, migrate
from coding.store.project import NewDocument, Project

__all__ = ["MIGRATIONS", "NewDocument", "Project", "applied", "backup", "connect", "migrate", "write_transaction"]
