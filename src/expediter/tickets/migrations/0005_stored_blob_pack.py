"""A blob may lie in a pack file: a bulk mail import writes each batch's raw messages in one.

Blobs stored before keep their own files (``pack`` blank).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0004_drop_indexes_covered_by_composites'),
    ]

    operations = [
        migrations.AddField(
            model_name='storedblob',
            name='offset',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='storedblob',
            name='pack',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
    ]
