"""Benchmarks of genro-storage-django against Django, django-storages, rclone and awscli.

Run them all with ``make bench`` (or ``python -m benchmarks``); see docs/benchmarks.rst.
They are scripts, not tests: ``tests/test_benchmarks_smoke.py`` only runs each
workload once at a tiny size (``python -m benchmarks --smoke``).
"""
