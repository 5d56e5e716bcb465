"""Serve files of mounts that set ``serve`` (to whom: genro_storage_django.serving)."""

from __future__ import annotations

import datetime
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from genro_storage_django import direct_uploads, object_parameters, serving
from genro_storage_django.async_storage import AsyncMountFile
from genro_storage_django.conf import mount_names
from genro_storage_django.content_types import content_type
from genro_storage_django.direct_uploads import UploadRefused
from genro_storage_django.exceptions import MountPermissionError
from genro_storage_django.names import clean_name
from genro_storage_django.storage import MountStorage, get_storage

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
STREAM_CHUNK_SIZE = 256 * 1024


def _served_storage(mount: str) -> MountStorage:
    if mount not in mount_names():
        raise Http404("No such mount.")
    storage = get_storage(mount)
    if not storage.mount.serve:
        raise Http404("This mount is not served.")
    return storage


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Return the inclusive ``(start, end)`` of a single-range ``Range`` header.

    Return None when the header is absent, malformed or asks for several
    ranges (the whole file is then sent). Raise ``ValueError`` if the range
    cannot be satisfied.
    """
    match = _RANGE_RE.match(header.strip()) if header else None
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise ValueError(header)
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise ValueError(header)
    return start, end


def _stream(handle: IO[bytes], length: int) -> Iterator[bytes]:
    with handle:
        while length > 0:
            chunk = handle.read(min(STREAM_CHUNK_SIZE, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk


class _Refused(Exception):
    """Access refused: what to answer (403, or the login page)."""

    def __init__(self, response: HttpResponseBase | None) -> None:
        self.response = response


def _access(request: HttpRequest, storage: MountStorage, path: str) -> dict[str, str]:
    """Return the headers the answer carries, or raise ``_Refused`` (blocking: user, DB).

    Checked before the file is looked at: a refused user learns nothing of it.
    """
    try:
        name = clean_name(path)
    except SuspiciousFileOperation:
        raise Http404("No such file.") from None
    token = request.GET.get(serving.TOKEN)
    granted = serving.unsign(token, storage.mount.name, name) if token else None
    if granted is None and not serving.rule(storage.mount.serve)(request, storage.mount.name, name):
        if request.user.is_authenticated:
            raise _Refused(None)
        from django.contrib.auth.views import redirect_to_login

        raise _Refused(redirect_to_login(request.get_full_path()))
    headers = object_parameters.headers(storage.get_object_parameters(name))
    if granted and granted.get("d"):
        headers["Content-Disposition"] = granted["d"]
    return headers


def _refusal(refused: _Refused) -> HttpResponseBase:
    if refused.response is None:
        raise PermissionDenied("You may not fetch this file.")
    return refused.response


@require_safe
def serve(request: HttpRequest, mount: str, path: str) -> HttpResponseBase:
    """Stream ``path`` of ``mount`` with conditional and single-range support."""
    storage = _served_storage(mount)
    try:
        headers = _access(request, storage, path)
    except _Refused as refused:
        return _refusal(refused)
    try:
        if not path or storage.isdir(path):
            raise Http404("Directory listings are not served.")
        size = storage.size(path)
        modified = storage.get_modified_time(path)
    except (SuspiciousFileOperation, FileNotFoundError, NotADirectoryError):
        raise Http404("No such file.") from None
    if storage.mount.serve_offload:
        return _offloaded(storage, path, headers)
    answer = _answer(request, path, size, modified, headers)
    if isinstance(answer, HttpResponseBase):
        return answer
    handle = storage.open(path, "rb")
    if answer.start:
        handle.seek(answer.start)
    return StreamingHttpResponse(_stream(handle, answer.length), **answer.response_kwargs)


@require_safe
async def aserve(request: HttpRequest, mount: str, path: str) -> HttpResponseBase:
    """``serve()`` for ASGI: the file is read by coroutines and streamed from them."""
    storage = _served_storage(mount)
    try:
        headers = await sync_to_async(_access)(request, storage, path)
    except _Refused as refused:
        return _refusal(refused)
    try:
        if not path or await storage.aisdir(path):
            raise Http404("Directory listings are not served.")
        size = await storage.asize(path)
        modified = await storage.aget_modified_time(path)
    except (SuspiciousFileOperation, FileNotFoundError, NotADirectoryError):
        raise Http404("No such file.") from None
    if storage.mount.serve_offload:
        return _offloaded(storage, path, headers)
    answer = _answer(request, path, size, modified, headers)
    if isinstance(answer, HttpResponseBase):
        return answer
    handle = await storage.aopen(path, "rb")
    if answer.start:
        await handle.seek(answer.start)
    return StreamingHttpResponse(_astream(handle, answer.length), **answer.response_kwargs)


@dataclass(frozen=True)
class _Body:
    """What to send of a file: from ``start``, ``length`` bytes, with these status and headers."""

    start: int
    length: int
    response_kwargs: dict[str, Any]


def _offloaded(storage: MountStorage, path: str, headers: dict[str, str]) -> HttpResponse:
    """Return the empty answer that has the web server send the file (``serve_offload``)."""
    response = HttpResponse(headers={"Content-Type": content_type(path), **headers})
    offload = storage.mount.serve_offload
    if isinstance(offload, dict):
        full = storage.backend.full_path(clean_name(path))
        inside = full[len(storage.backend.root) :].lstrip("/")
        response["X-Accel-Redirect"] = offload["x_accel_redirect"] + quote(inside)
    else:
        response["X-Sendfile"] = storage.path(path)
    return response


def _answer(
    request: HttpRequest,
    path: str,
    size: int,
    modified: datetime.datetime,
    extra: dict[str, str],
) -> HttpResponseBase | _Body:
    """Return the response that needs no body (304, 416, HEAD), or what the body must be."""
    last_modified = int(modified.timestamp())
    etag = quote_etag(f"{size:x}-{int(modified.timestamp() * 1_000_000):x}")
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        return not_modified

    range_header = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range")
    if if_range and if_range not in (etag, http_date(last_modified)):
        range_header = ""  # the client's copy is stale: send it all
    try:
        byte_range = parse_range(range_header, size)
    except ValueError:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response

    start, end = byte_range if byte_range else (0, size - 1)
    length = end - start + 1 if size else 0
    headers: dict[str, Any] = {
        "Content-Type": content_type(path),
        "Content-Length": str(length),
        "Accept-Ranges": "bytes",
        "Last-Modified": http_date(last_modified),
        "ETag": etag,
        **extra,  # the mount's object parameters: Cache-Control, Content-Type…
    }
    status = 206 if byte_range else 200
    if byte_range:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if request.method == "HEAD":
        return HttpResponse(status=status, headers=headers)
    return _Body(start, length, {"status": status, "headers": headers})


async def _astream(handle: AsyncMountFile, length: int) -> AsyncIterator[bytes]:
    async with handle:
        while length > 0:
            chunk = await handle.read(min(STREAM_CHUNK_SIZE, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk


# Direct uploads (genro_storage_django.direct_uploads)

#: The status of each refusal of the upload view.
_UPLOAD_STATUS = {"too_large": 413, "content_type": 415, "exists": 409}


def _refused(refused: UploadRefused, status: int) -> JsonResponse:
    return JsonResponse({"error": str(refused), "code": refused.code}, status=status)


def _granted_storage(mount: str) -> MountStorage:
    if mount not in mount_names():
        raise UploadRefused("forged")  # signed for a mount removed since
    return get_storage(mount)


@csrf_exempt  # the signed token authorises the request, as a presigned URL does
@require_http_methods(["PUT"])
def direct_upload(request: HttpRequest, token: str) -> HttpResponseBase:
    """Store the raw request body as the file a ``direct_uploads`` token names.

    The body streams to the mount, published only when complete and within
    the size limit: nothing is left of a refused upload.
    """
    try:
        terms = direct_uploads.upload_terms(token)
        storage = _granted_storage(terms["m"])
        if not direct_uploads.allowed_type(request.META.get("CONTENT_TYPE", ""), [terms["t"]]):
            raise UploadRefused("content_type", type=request.META.get("CONTENT_TYPE", ""))
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        direct_uploads.receive(storage, terms, request, length)
    except UploadRefused as refused:
        return _refused(refused, _UPLOAD_STATUS.get(refused.code, 403))
    except FileExistsError:
        return _refused(UploadRefused("exists"), 409)
    return JsonResponse({"name": terms["n"]}, status=201)


@require_POST
def upload_target(request: HttpRequest) -> HttpResponseBase:
    """Answer a ``grant()`` holder's ask for one file's upload target, as JSON.

    Form fields: ``grant``, ``filename``, ``size``, ``content_type``. The
    grant is all the authorisation: the page that holds it decided who uploads.
    """
    try:
        storage, terms = direct_uploads.read_grant(_granted_storage, request.POST.get("grant", ""))
    except UploadRefused as refused:
        return _refused(refused, 403)
    filename = request.POST.get("filename", "")
    try:
        size = int(request.POST.get("size", ""))
        name = clean_name(terms["p"] + storage.get_valid_name(filename))
    except (ValueError, SuspiciousFileOperation):
        return JsonResponse({"error": "Invalid file name or size.", "code": "invalid"}, status=400)
    kind = request.POST.get("content_type") or content_type(filename)
    try:
        if size > terms["s"]:
            raise UploadRefused("too_large", limit=terms["s"])
        if not direct_uploads.allowed_type(kind, terms["t"]):
            raise UploadRefused("content_type", type=kind)
        if not storage.file_overwrite:
            name = storage.get_available_name(name)
        answer = storage.upload_target(name, max_size=terms["s"], content_type=kind)
    except MountPermissionError:
        return _refused(UploadRefused("read_only"), 400)
    except UploadRefused as refused:
        return _refused(refused, 400)
    return JsonResponse(answer)
