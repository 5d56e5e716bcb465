"""A shard copied by a Celery task: the engine's ``Transfer`` on the shard's decisions.

Apart from ``shards`` (which the command's side imports) so that planning
shards never imports the engine that plans them.
"""

from __future__ import annotations

from typing import Any

from genro_storage_django.tenants import tenant
from genro_storage_django.transfer.engine import Transfer
from genro_storage_django.transfer.listing import FileStat, Location
from genro_storage_django.transfer.plan import Decision
from genro_storage_django.transfer.result import FileOutcome, TransferListener, TransferResult
from genro_storage_django.transfer.rules import verdict
from genro_storage_django.transfer.shards import DONE_BEFORE


def run_shard(
    shard: dict[str, Any], listener: TransferListener, redelivered: bool = False
) -> dict[str, Any]:
    """Copy the files of ``shard``; return their outcomes and whether Ctrl-C stopped it."""
    with tenant(shard["tenant"]):
        source, destination = (Location.parse(shard[key]) for key in ("source", "destination"))
        transfer = Transfer(source, destination, listener=listener, **shard["options"])
        result = TransferResult(str(source), str(destination), transfer.dry_run)
        decisions = [Decision.decode(data) for data in shard["decisions"]]
        if redelivered:
            decisions = [d for d in decisions if not _done_before(transfer, d, result)]
        try:
            transfer.execute(decisions, result)
        except KeyboardInterrupt:
            result.interrupted = True
    outcomes = [[o.name, o.action, o.size, o.reason, o.backup] for o in result.outcomes]
    return {"outcomes": outcomes, "interrupted": result.interrupted}


def _done_before(transfer: Transfer, decision: Decision, result: TransferResult) -> bool:
    """Return True (and record a skip) if the destination file is already as planned."""
    item, backend = decision.item, transfer.target_backend
    if not backend.exists(item.target):
        return False
    target = FileStat.from_info(backend, backend.info(item.target))
    if verdict(transfer.skip, item.stat, target).action != "skip":
        return False
    result.outcomes.append(FileOutcome(item.name, "skip", item.stat.size, DONE_BEFORE))
    return True
