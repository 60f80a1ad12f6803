"""Inventory import from CSV: new machines are created (active), known ones get their columns updated.

One header line names the columns; `hostname` is required, and `hardware_model` and `pool` (by name) for a new
machine. Other columns: serial, asset_tag, site, rack. Unknown columns are an error, so a typo is not silently
dropped. Every row is checked first (the dry run shows the outcome of each); a file with any bad row imports
nothing, so a fixed file can simply be imported again. The state is never imported: new machines start active and
move only through the lifecycle.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction

from assets.models import Asset, HardwareModel, Pool
from assets.validators import hostname_problem

COLUMNS = ["hostname", "hardware_model", "pool", "serial", "asset_tag", "site", "rack"]
TEXT_COLUMNS = ["serial", "asset_tag", "site", "rack"]
MAX_ROWS = 200_000
BATCH = 2000


@dataclass
class Row:
    line: int
    hostname: str
    action: str = ""  # create | update | unchanged | error
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)  # column → (old, new)
    errors: list[str] = field(default_factory=list)


@dataclass
class Preview:
    rows: list[Row]
    errors: list[str]  # about the file as a whole

    @property
    def ok(self) -> bool:
        return not self.errors and not any(r.errors for r in self.rows)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {a: self.count(a) for a in ("create", "update", "unchanged", "error")}


def _max_length(name: str) -> int:
    return Asset._meta.get_field(name).max_length


def inventory_preview(text: str) -> tuple[Preview, list[Asset], list[Asset], list[str]]:
    """Check every row. Returns the preview and what applying it would write: new assets, changed assets and the
    columns changed."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(h or "").strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    file_errors = []
    if "hostname" not in header:
        file_errors.append("The header line must name a hostname column "
                           f"(columns: {', '.join(COLUMNS)}).")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        file_errors.append(f"Unknown column(s): {', '.join(unknown)}. Known: {', '.join(COLUMNS)}.")
    if file_errors:
        return Preview([], file_errors), [], [], []

    records = []
    for record in reader:
        if len(records) >= MAX_ROWS:
            return Preview([], [f"More than {MAX_ROWS} rows: split the file."]), [], [], []
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue  # a blank line
        records.append((reader.line_num, record))

    hostnames = {(r.get("hostname") or "").strip() for _, r in records}
    known = {a.hostname: a for a in Asset.objects.filter(hostname__in=hostnames)
             .select_related("hardware_model", "pool")} if hostnames else {}
    models = {m.name: m for m in HardwareModel.objects.all()}
    pools = {p.name: p for p in Pool.objects.all()}

    rows, new, changed, seen = [], [], {}, {}
    columns = set()
    for line, record in records:
        values = {k: (v or "").strip() for k, v in record.items() if k in COLUMNS}
        if None in record:  # more cells than header columns
            values["__extra__"] = "x"
        row = Row(line=line, hostname=values.get("hostname", ""))
        rows.append(row)
        if "__extra__" in values:
            row.errors.append("more cells than the header has columns")
        if not row.hostname:
            row.errors.append("hostname: empty")
        elif problem := hostname_problem(row.hostname):  # the API's and the admin's rule too
            row.errors.append(f"hostname: '{row.hostname}' is not a valid host name: {problem}")
        elif row.hostname in seen:
            row.errors.append(f"hostname: '{row.hostname}' appears already on line {seen[row.hostname]}")
        else:
            seen[row.hostname] = line
        for name in TEXT_COLUMNS:
            if len(values.get(name, "")) > _max_length(name):
                row.errors.append(f"{name}: longer than {_max_length(name)} characters")
        model = pool = None
        if values.get("hardware_model"):
            model = models.get(values["hardware_model"])
            if model is None:
                row.errors.append(f"hardware_model: unknown '{values['hardware_model']}' "
                                  "(create it first under Hardware models)")
        if values.get("pool"):
            pool = pools.get(values["pool"])
            if pool is None:
                row.errors.append(f"pool: unknown '{values['pool']}' (create it first under Pools)")

        asset = known.get(row.hostname)
        if asset is None:
            if not values.get("hardware_model"):
                row.errors.append("hardware_model: required for a new machine")
            if not values.get("pool"):
                row.errors.append("pool: required for a new machine")
            if not row.errors:
                row.action = "create"
                new.append(Asset(hostname=row.hostname, hardware_model=model, pool=pool,
                                 **{n: values.get(n, "") for n in TEXT_COLUMNS}))
        elif not row.errors:
            # An empty cell leaves the field alone: a partial sheet never blanks what it does not know.
            for name in TEXT_COLUMNS:
                if values.get(name) and values[name] != getattr(asset, name):
                    row.changes[name] = (getattr(asset, name), values[name])
                    setattr(asset, name, values[name])
            if model and model.pk != asset.hardware_model_id:
                row.changes["hardware_model"] = (asset.hardware_model.name, model.name)
                asset.hardware_model = model
            if pool and pool.pk != asset.pool_id:
                row.changes["pool"] = (asset.pool.name, pool.name)
                asset.pool = pool
            row.action = "update" if row.changes else "unchanged"
            if row.changes:
                changed[asset.pk] = asset
                columns |= row.changes.keys()
        if row.errors:
            row.action = "error"
    return Preview(rows, []), new, list(changed.values()), sorted(columns)


def inventory_import(text: str, *, dry_run: bool) -> Preview:
    """Check the file and, unless it is a dry run or some row is bad, write it in one transaction."""
    preview, new, changed, columns = inventory_preview(text)
    if dry_run or not preview.ok:
        return preview
    with transaction.atomic():
        Asset.objects.bulk_create(new, batch_size=BATCH)
        if changed:
            Asset.objects.bulk_update(changed, columns, batch_size=BATCH)
    return preview
