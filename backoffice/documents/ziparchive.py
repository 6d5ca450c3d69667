"""A minimal ZIP reader/writer for .docx parts that copies untouched parts byte for byte.

The standard library's ``zipfile`` can only write an entry by compressing it again. A .docx
rendered a thousand times keeps 90 % of its parts unchanged (styles, theme, fonts, media), so
the engine reads each part's compressed bytes once and writes them back as they are; only the
rendered parts are deflated again. The writer is sequential (never seeks), so it can write
straight into a member of an outer ZIP (``ZipFile.open(name, "w")``) for bulk generation.

Limits, on purpose: no ZIP64 (a Word template part never reaches 4 GiB; bigger is refused),
no encryption, no data descriptors.
"""
from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_UTF8_FLAG = 0x800
_LIMIT = 0xFFFFFFFF
# 1980-01-01 00:00, the first DOS date: new parts get a fixed date so that the same context
# renders the same bytes.
_FIXED_DOSTIME, _FIXED_DOSDATE = 0, (0 << 9) | (1 << 5) | 1


@dataclass(frozen=True)
class RawEntry:
    """One entry of an archive, with its compressed bytes as stored."""

    name: str
    method: int
    crc: int
    compressed: bytes
    size: int
    dostime: int
    dosdate: int
    external_attr: int


def read_raw_entry(data: bytes, info: zipfile.ZipInfo) -> RawEntry:
    """Return the stored (compressed) bytes of ``info`` inside the archive ``data``."""
    offset = info.header_offset
    header = data[offset:offset + _LOCAL.size]
    if len(header) != _LOCAL.size or _LOCAL.unpack(header)[0] != _LOCAL_SIG:
        raise zipfile.BadZipFile(f"bad local header for {info.filename!r}")
    name_len, extra_len = _LOCAL.unpack(header)[9:11]
    start = offset + _LOCAL.size + name_len + extra_len
    compressed = data[start:start + info.compress_size]
    if len(compressed) != info.compress_size:
        raise zipfile.BadZipFile(f"truncated entry {info.filename!r}")
    year, month, day, hour, minute, second = info.date_time
    dosdate = max(year - 1980, 0) << 9 | month << 5 | day
    dostime = hour << 11 | minute << 5 | second // 2
    return RawEntry(info.filename, info.compress_type, info.CRC, compressed, info.file_size,
                    dostime, dosdate, info.external_attr)


class ZipWriter:
    """Sequential ZIP writer. ``close()`` writes the central directory; it does not close ``fp``."""

    def __init__(self, fp, compresslevel: int = 6):
        self._fp = fp
        self._offset = 0
        self._central: list[bytes] = []
        self._level = compresslevel

    def _write(self, chunk: bytes) -> None:
        self._fp.write(chunk)
        self._offset += len(chunk)

    def add_raw(self, entry: RawEntry) -> None:
        """Write an entry whose bytes are already compressed."""
        self._add(entry.name, entry.method, entry.crc, entry.compressed, entry.size,
                  entry.dostime, entry.dosdate, entry.external_attr)

    def add(self, name: str, data: bytes, *, compress: bool = True) -> None:
        """Write ``data`` under ``name``, deflated unless ``compress`` is false."""
        crc = zlib.crc32(data)
        if compress:
            deflater = zlib.compressobj(self._level, zlib.DEFLATED, -15)
            payload = deflater.compress(data) + deflater.flush()
            method = zipfile.ZIP_DEFLATED
        else:
            payload, method = data, zipfile.ZIP_STORED
        self._add(name, method, crc, payload, len(data), _FIXED_DOSTIME, _FIXED_DOSDATE, 0)

    def _add(self, name, method, crc, payload, size, dostime, dosdate, external_attr):
        try:
            name_bytes, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            name_bytes, flags = name.encode("utf-8"), _UTF8_FLAG
        if size > _LIMIT or len(payload) > _LIMIT or self._offset > _LIMIT:
            raise ValueError("document too large for a .docx part")
        self._central.append(_CENTRAL.pack(
            _CENTRAL_SIG, 20, 20, flags, method, dostime, dosdate, crc, len(payload), size,
            len(name_bytes), 0, 0, 0, 0, external_attr, self._offset) + name_bytes)
        self._write(_LOCAL.pack(_LOCAL_SIG, 20, flags, method, dostime, dosdate, crc,
                                len(payload), size, len(name_bytes), 0) + name_bytes)
        self._write(payload)

    def close(self) -> None:
        directory = b"".join(self._central)
        start = self._offset
        if start > _LIMIT or len(self._central) > 0xFFFF:
            raise ValueError("document too large for a .docx archive")
        self._write(directory)
        self._write(_END.pack(_END_SIG, 0, 0, len(self._central), len(self._central),
                              len(directory), start, 0))
