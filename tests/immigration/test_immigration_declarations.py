"""Accommodation declarations: the 12/24-hour rule, refusals (expired passport, departure before
arrival, another establishment, Vietnamese guests), the 'checked in elsewhere' warning, visas,
the CSV batch (10,000 rows with malformed ones), overstays and the watch list."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.core.management import call_command

from popid.core.access import Actor
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.immigration import errors, mrz, services
from popid.immigration.models import OverstayAlert, Stay, TravelDocument, Visa, WatchHit
from tests.immigration.fixtures import NOW, guest_mrz, hotels_fixture, hours_ago  # noqa: F401

pytestmark = pytest.mark.django_db


def arrive(h, lines=None, *, at=None, declarant=None, code="ks-hoan-kiem", visa=None):
    return services.declare_arrival(declarant=declarant or h["declarant"], establishment_code=code,
                                    guest=services.guest_from_mrz(lines or guest_mrz()), arrival_at=at or hours_ago(2),
                                    room="101", visa=visa, now=NOW)


def test_arrival_from_mrz_on_time(hotels):
    stay = arrive(hotels)
    assert stay.person.surname == "DUPONT" and stay.document.number == "X1234567"
    assert stay.commune_code == hotels["hotel"].commune_code
    assert not stay.arrival_late and stay.warnings == []
    assert stay.declared_by.startswith("citizen:")


def test_late_declaration_is_flagged_not_refused(hotels):
    stay = arrive(hotels, at=hours_ago(13))
    assert stay.arrival_late
    assert [w["code"] for w in stay.warnings] == ["late_declaration"]


def test_remote_area_has_24_hours(hotels):
    hotel = hotels["hotel"]
    hotel.remote_area = True
    hotel.save()
    assert not arrive(hotels, at=hours_ago(20)).arrival_late
    assert arrive(hotels, guest_mrz("Y7654321"), at=hours_ago(25)).arrival_late


def test_expired_passport_refused(hotels):
    with pytest.raises(errors.PassportExpired):
        arrive(hotels, guest_mrz(expiry=date(2026, 12, 1)))
    assert not Stay.objects.exists() and not TravelDocument.objects.exists()


def test_arrival_in_the_future_refused(hotels):
    with pytest.raises(errors.ArrivalInFuture):
        arrive(hotels, at=NOW + timedelta(hours=2))


def test_vietnamese_guest_goes_to_stay_notification(hotels):
    with pytest.raises(errors.VietnameseGuest):
        arrive(hotels, guest_mrz(nationality="VNM"))


def test_visa_mrz_is_not_a_guest_document(hotels):
    with pytest.raises(mrz.InvalidMrz):
        services.guest_from_mrz("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nL8988901C4XXX4009078F9612109<<<<<<<<")


def test_bad_mrz_changes_nothing(hotels):
    bad = guest_mrz()[:-1] + "9"
    with pytest.raises(mrz.InvalidMrz) as exc:
        arrive(hotels, bad)
    assert exc.value.check == "composite_check_digit" and not Stay.objects.exists()


def test_departure_before_arrival_refused(hotels):
    stay = arrive(hotels, at=hours_ago(5))
    with pytest.raises(errors.DepartureBeforeArrival):
        services.declare_departure(declarant=hotels["declarant"], establishment_code="ks-hoan-kiem",
                                   nationality="FRA", document_number="X1234567", departure_at=hours_ago(6), now=NOW)
    stay.refresh_from_db()
    assert stay.departure_at is None


def test_departure_closes_the_stay(hotels):
    arrive(hotels, at=hours_ago(5))
    stay = services.declare_departure(declarant=hotels["declarant"], establishment_code="ks-hoan-kiem",
                                      nationality="fra", document_number="x1234567", departure_at=hours_ago(1),
                                      now=NOW)
    assert stay.departure_at == hours_ago(1) and not stay.departure_late
    with pytest.raises(errors.NoOpenStay):
        services.declare_departure(declarant=hotels["declarant"], establishment_code="ks-hoan-kiem",
                                   nationality="FRA", document_number="X1234567", departure_at=hours_ago(0.5), now=NOW)


def test_double_arrival_same_establishment_refused(hotels):
    arrive(hotels, at=hours_ago(5))
    with pytest.raises(errors.AlreadyCheckedIn):
        arrive(hotels, at=hours_ago(3))


def test_checked_in_elsewhere_same_night_is_a_recorded_warning(hotels):
    first = arrive(hotels, at=hours_ago(6))
    second = arrive(hotels, at=hours_ago(3), declarant=hotels["other_declarant"], code="nn-cua-nam")
    assert second.person_id == first.person_id
    warning = second.warnings[0]
    assert warning["code"] == "checked_in_elsewhere" and warning["establishment"] == "ks-hoan-kiem"
    assert Stay.objects.get(pk=second.pk).warnings == second.warnings


def test_declaring_for_another_establishment_refused(hotels):
    with pytest.raises(errors.NotEstablishmentStaff):
        arrive(hotels, code="nn-cua-nam")
    with pytest.raises(errors.NotEstablishmentStaff):
        arrive(hotels, code="khong-ton-tai")
    assert not Stay.objects.exists()


def test_e_visa_longer_than_90_days_refused(hotels):
    visa = services.VisaIn(number="EV1", valid_from=date(2026, 12, 1), valid_until=date(2027, 3, 5))
    with pytest.raises(errors.InvalidVisa):
        arrive(hotels, visa=visa)
    assert not Stay.objects.exists()
    ok = services.VisaIn(number="EV1", valid_from=date(2026, 12, 1), valid_until=date(2027, 2, 28))
    arrive(hotels, visa=ok)
    assert Visa.objects.get().valid_until == date(2027, 2, 28)


def test_new_passport_same_number_different_birth_date_refused(hotels):
    arrive(hotels)
    with pytest.raises(errors.DocumentMismatch):
        arrive(hotels, guest_mrz(birth=date(1970, 1, 1)), declarant=hotels["other_declarant"], code="nn-cua-nam")


def test_typed_guest_fields_are_checked():
    with pytest.raises(ValidationFailed) as exc:
        services.guest_from_fields(nationality="FR", document_number="AB 12", surname="", document_expiry=None)
    assert {e["field"] for e in exc.value.errors()} == {"nationality", "document_number", "surname",
                                                        "document_expiry"}


# --- CSV ------------------------------------------------------------------------------------------
HEADER = "event,mrz,nationality,document_number,surname,given_names,birth_date,sex,document_expiry,at,room\n"


def test_csv_small_batch_reports_bad_lines(hotels):
    text = HEADER + "\n".join([
        f"arrival,{guest_mrz('A1111111').replace(chr(10), '|')},,,,,,,,2026-12-06T18:00,101",
        "arrival,,DEU,B2222222,MULLER,HANS,1980-01-01,M,2031-01-01,2026-12-06T18:30,102",
        "arrival,,DEU,B3333333,MULLER,HANS,1980-01-01,M,2020-01-01,2026-12-06T18:30,103",  # expired
        "arrival,,DEU,,MULLER,HANS,1980-01-01,M,2031-01-01,2026-12-06T18:30,104",  # no number
        f"arrival,{guest_mrz('C4444444').replace(chr(10), '|')[:-1]}0,,,,,,,,2026-12-06T18:00,105",  # check digit
        "departure,,DEU,B2222222,,,,,,2026-12-06T19:00,",
        "departure,,DEU,B2222222,,,,,,2026-12-06T19:30,",  # already left
        "checkout,,DEU,B2222222,,,,,,2026-12-06T19:30,",
        "arrival,,ITA,D5555555,ROSSI,LUCA,1990-02-02,M,2031-01-01,not-a-date,106",
    ])
    result = services.import_csv(declarant=hotels["declarant"], establishment_code="ks-hoan-kiem", text=text,
                                 now=NOW)
    assert (result.arrivals, result.departures) == (2, 1)
    assert [(e["line"], e["code"]) for e in result.errors] == [
        (4, "passport_expired"), (5, "validation_failed"), (6, "mrz:composite_check_digit"), (8, "no_open_stay"),
        (9, "validation_failed"), (10, "validation_failed")]
    assert Stay.objects.count() == 2


def test_csv_bad_header_refused(hotels):
    with pytest.raises(ValidationFailed):
        services.import_csv(declarant=hotels["declarant"], establishment_code="ks-hoan-kiem",
                            text="a,b\n1,2\n", now=NOW)


def test_csv_for_another_establishment_refused(hotels):
    with pytest.raises(errors.NotEstablishmentStaff):
        services.import_csv(declarant=hotels["declarant"], establishment_code="nn-cua-nam", text=HEADER, now=NOW)


def test_csv_ten_thousand_rows_with_malformed_ones(hotels):
    rng = random.Random(16)
    lines, bad = [HEADER.rstrip("\n")], {}
    for i in range(10_000):
        number = f"P{i:07d}"
        row = f"arrival,,USA,{number},SMITH,JOHN,1985-06-01,M,2032-01-01,2026-12-06T{8 + i % 10:02d}:00,{i % 500}"
        kind = rng.random()
        if kind < 0.01:
            row = f"arrival,,USA,{number},SMITH,JOHN,1985-06-01,M,2031-13-40,2026-12-06T09:00,1"
            bad[i + 2] = "validation_failed"
        elif kind < 0.02:
            row = f"arrival,,USA,{number},SMITH,JOHN,1985-06-01,M,2025-01-01,2026-12-06T09:00,1"
            bad[i + 2] = "passport_expired"
        elif kind < 0.025:
            row = row + ",extra,columns"
            bad[i + 2] = "validation_failed"
        lines.append(row)
    result = services.import_csv(declarant=hotels["declarant"], establishment_code="ks-hoan-kiem",
                                 text="\n".join(lines) + "\n", now=NOW)
    assert {e["line"]: e["code"] for e in result.errors} == bad
    assert result.arrivals == 10_000 - len(bad) == Stay.objects.count()
    assert 150 < len(bad) < 350


# --- overstays and the watch list -----------------------------------------------------------------
def test_overstays_command(hotels, capsys):
    visa = services.VisaIn(number="EV9", valid_from=date(2026, 11, 1), valid_until=date(2026, 12, 10))
    stay = arrive(hotels, visa=visa)
    arrive(hotels, guest_mrz("Q1000000"), visa=services.VisaIn(number="EV8", valid_from=date(2026, 12, 1),
                                                              valid_until=date(2027, 1, 30)))
    call_command("immigration", "overstays", "--date", "2026-12-15")
    alert = OverstayAlert.objects.get()
    assert alert.stay_id == stay.pk and alert.days_over == 5 and alert.commune_code == stay.commune_code
    assert "1" in capsys.readouterr().out
    call_command("immigration", "overstays", "--date", "2026-12-16")  # idempotent
    assert OverstayAlert.objects.count() == 1
    services.declare_departure(declarant=hotels["declarant"], establishment_code="ks-hoan-kiem", nationality="FRA",
                               document_number="X1234567", departure_at=hours_ago(1), now=NOW)
    assert services.compute_overstays(today=date(2026, 12, 20)).created == 0


def test_watch_list_hit_is_recorded_for_officers_not_the_hotel(hotels, admin_actor):
    services.add_watch_entry(actor=admin_actor, nationality="FRA", document_number="X1234567", surname="Dupont",
                             reason="Truy nã quốc tế")
    stay = arrive(hotels)
    hit = WatchHit.objects.get()
    assert hit.stay_id == stay.pk and hit.matched_on == "document" and hit.status == "open"
    assert stay.warnings == []  # never shown to the establishment


def test_review_hit_outside_jurisdiction_is_not_found(hotels, admin_actor, actor_hcm):
    services.add_watch_entry(actor=admin_actor, nationality="FRA", document_number="X1234567", surname="Dupont",
                             reason="Truy nã")
    arrive(hotels)
    hit = WatchHit.objects.get()
    with pytest.raises(errors.WatchHitNotFound):
        services.review_hit(actor=actor_hcm, hit_id=hit.pk, note="x")


def test_establishment_outside_jurisdiction_refused(actor_hcm):
    with pytest.raises(PermissionDenied):
        services.register_establishment(actor=actor_hcm, code="x", name="X", commune_code="00070", address="a")


def test_staff_needs_an_identity_account(hotels):
    with pytest.raises(ValidationFailed):
        services.add_staff(actor=Actor.system(), establishment=hotels["hotel"], id_number="001099000000")
