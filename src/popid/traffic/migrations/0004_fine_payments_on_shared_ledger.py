"""Fine payments move onto the shared payment ledger (services.Payment / PaymentNotice): each old
FinePayment row becomes a Payment with purpose traffic_fine (same order id, amount, state, gateway
reference and dates), its notices become PaymentNotice rows (same nonces), and FinePayment keeps
only the link (payment, decision). A payment the old code had marked "declined" although the bank
took the money (a duplicate, gateway_reference set) becomes "paid": the refund is then made by
`popid traffic reconcile` / the daily reconciliation like any other."""

import django.db.models.deletion
from django.db import migrations, models


def forward(apps, schema_editor):
    FinePayment = apps.get_model("traffic", "FinePayment")
    FinePaymentNotice = apps.get_model("traffic", "FinePaymentNotice")
    Payment = apps.get_model("public_services", "Payment")
    PaymentNotice = apps.get_model("public_services", "PaymentNotice")
    Decision = apps.get_model("traffic", "Decision")
    Refund = apps.get_model("public_services", "Refund")
    for old in FinePayment.objects.all().order_by("pk"):
        duplicate = old.state == "declined" and bool(old.gateway_reference)
        payment = Payment.objects.create(
            order_id=old.order_id, purpose="traffic_fine", amount=old.amount, currency=old.currency,
            gateway=old.gateway, state="paid" if duplicate else old.state, gateway_reference=old.gateway_reference,
            paid_at=old.paid_at or (old.created_at if duplicate else None),
            declined_at=old.created_at if old.state == "declined" and not duplicate else None,
            description=f"Nộp phạt quyết định {Decision.objects.get(pk=old.decision_id).number}"[:200])
        Payment.objects.filter(pk=payment.pk).update(created_at=old.created_at)
        old.payment_id = payment.pk
        old.save(update_fields=["payment"])
        for notice in FinePaymentNotice.objects.filter(payment_id=old.pk):
            PaymentNotice.objects.create(nonce=notice.nonce, payment=payment, status=notice.status,
                                         source=notice.source, sent_at=notice.sent_at)
        if duplicate:
            Refund.objects.create(refund_id=f"RF{payment.order_id}"[:44], payment=payment, amount=payment.amount,
                                  reason="Quyết định đã được nộp phạt trước đó hoặc đã bị hủy",
                                  requested_by="migration:traffic.0004")


def backward(apps, schema_editor):
    raise RuntimeError("fine payments live in the shared ledger now; restore from a backup to go back")


class Migration(migrations.Migration):

    dependencies = [
        ("public_services", "0003_shared_payment_ledger_refunds_reconciliation"),
        ("traffic", "0003_appeals"),
    ]

    operations = [
        migrations.AddField(
            model_name="finepayment",
            name="payment",
            field=models.OneToOneField(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="fine",
                                       to="public_services.payment"),
        ),
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="FinePaymentNotice"),
        migrations.RemoveConstraint(model_name="finepayment", name="traffic_one_paid_payment_per_decision"),
        migrations.RemoveField(model_name="finepayment", name="order_id"),
        migrations.RemoveField(model_name="finepayment", name="amount"),
        migrations.RemoveField(model_name="finepayment", name="currency"),
        migrations.RemoveField(model_name="finepayment", name="gateway"),
        migrations.RemoveField(model_name="finepayment", name="state"),
        migrations.RemoveField(model_name="finepayment", name="gateway_reference"),
        migrations.RemoveField(model_name="finepayment", name="created_at"),
        migrations.RemoveField(model_name="finepayment", name="paid_at"),
        migrations.AlterField(
            model_name="finepayment",
            name="payment",
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name="fine",
                                       to="public_services.payment"),
        ),
    ]
