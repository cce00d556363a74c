"""The demo seeding adds camera detections of seeded vehicles once."""

from __future__ import annotations

from popid.traffic.demo import seed_demo
from popid.traffic.models import Detection, DetectionState


def test_seed_demo_creates_pending_detections_once(vehicles):
    lines = seed_demo()
    assert Detection.objects.count() == 2 and len(lines) == 3
    assert set(Detection.objects.values_list("state", flat=True)) == {DetectionState.PENDING}
    assert all(d.images.get().file.read().startswith(b"\xff\xd8\xff") for d in Detection.objects.all())
    assert seed_demo() == [] and Detection.objects.count() == 2
