"""Shared serializer behaviour of the API."""
from collections.abc import Mapping

from rest_framework import serializers


class RejectUnknownFields:
    """Refuse input that names a field the serializer does not take (or may not be written), instead of silently
    ignoring it: a typo such as "reson" must not pass unnoticed. 400 names each such field."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = [name for name in data if name not in writable]
            if unknown:
                takes = ", ".join(sorted(writable)) or "nothing"
                raise serializers.ValidationError({
                    name: [f"Read-only field: it cannot be written here (writable: {takes})."
                           if name in self.fields else f"Unknown field (this takes: {takes})."]
                    for name in unknown})
        return super().to_internal_value(data)
