import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("maps", "0007_workshops"),
    ]

    operations = [
        # Added empty first, so that members from before keep no made-up date; new ones
        # get the time they join.
        migrations.AddField(
            model_name="membership",
            name="joined",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="member since"),
        ),
        migrations.AlterField(
            model_name="membership",
            name="joined",
            field=models.DateTimeField(
                blank=True, default=django.utils.timezone.now, editable=False, null=True, verbose_name="member since"
            ),
        ),
    ]
