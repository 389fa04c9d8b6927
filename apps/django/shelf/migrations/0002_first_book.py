"""A data migration: the shelf's first book, there once `migrate` has run."""

from django.db import migrations


def add_first_book(apps, schema_editor):  # type: ignore[no-untyped-def]
    Book = apps.get_model("shelf", "Book")
    Book.objects.create(title="The Mythical Man-Month", author="Fred Brooks", year=1975)


class Migration(migrations.Migration):
    dependencies = [("shelf", "0001_initial")]
    operations = [migrations.RunPython(add_first_book, migrations.RunPython.noop)]
