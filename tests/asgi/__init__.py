"""A Django site served by uvicorn for the async tests (tests/test_async_asgi.py)."""
