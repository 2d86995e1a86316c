"""How ``expediter serve`` runs gunicorn."""

from __future__ import annotations

from expediter.core.management.commands.serve import gunicorn_config


def _options(**overrides: object) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": 8000, "workers": 2, "threads": 1, **overrides}


def test_one_thread_runs_synchronous_workers_that_checkpoint_from_a_thread() -> None:
    config = gunicorn_config(_options())
    assert config["worker_class"] == "sync"
    assert config["workers"] == 2 and config["bind"] == "127.0.0.1:8000"
    assert "threads" not in config
    assert config["post_worker_init"].__name__ == "_worker_ready"


def test_more_threads_run_threaded_workers_with_keepalive() -> None:
    config = gunicorn_config(_options(threads=4))
    assert (config["worker_class"], config["threads"], config["keepalive"]) == ("gthread", 4, 5)
