"""Every table the code uses is created by a migration, as `expediter migrate` runs them.

The test database also creates tables for apps without migrations, so a
model added to such an app works in the suite and is missing on every real
desk; `makemigrations --check` does not look at those apps either.
"""

from __future__ import annotations

from django.apps import apps
from django.db.migrations.loader import MigrationLoader


def test_every_app_with_models_has_migrations() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    ours = {
        config.label
        for config in apps.get_app_configs()
        if config.name.startswith("expediter.") and list(config.get_models())
    }
    assert ours, "no app with models found"
    assert not ours & loader.unmigrated_apps
