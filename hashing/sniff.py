"""What kind of file this is, from its first bytes (never from its name). worker.js sniffs the same way."""

# ISO-BMFF brands that are still images, and audio brands: an "ftyp" file with any other brand is a video.
IMAGE_BRANDS = {b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
IMAGE_SIGNATURES = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a", b"GIF89a",
    b"BM",  # BMP
    b"\x00\x00\x01\x00", b"\x00\x00\x02\x00",  # ICO, CUR
    b"II*\x00", b"MM\x00*",  # TIFF
    b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n",  # JPEG XL
)


def sniff_kind(head):
    """'image', 'video' or 'file' from the first bytes (1024 of them, as worker.js reads)."""
    if head.startswith(IMAGE_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    box = head[4:8]
    if box == b"ftyp":
        brand = head[8:12]
        if brand in IMAGE_BRANDS:
            return "image"
        return "file" if brand in AUDIO_BRANDS else "video"
    if box in QUICKTIME_ATOMS and len(head) >= 8:
        return "video"
    if head.startswith((
        b"\x1a\x45\xdf\xa3",  # Matroska / WebM
        b"FLV\x01",
        b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3",  # MPEG-PS, MPEG-1/2
        b"\x30\x26\xb2\x75\x8e\x66\xcf\x11",  # ASF / WMV
        b".RMF",  # RealMedia
    )):
        return "video"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video"
    if head.startswith(b"OggS") and b"\x80theora" in head:
        return "video"
    for offset in (0, 4):  # MPEG transport stream (and M2TS with its 4-byte prefix)
        if len(head) > offset + 376 and all(head[offset + k] == 0x47 for k in (0, 188, 376)):
            return "video"
    return "file"
