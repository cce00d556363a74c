"""The traffic tests' vehicles (An's motorbike and car) for the fine notifications."""

from tests.traffic.conftest import vehicles  # noqa: F401 - a fixture, used by name
