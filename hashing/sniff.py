"""What kind of file this is, from its first bytes (never from its name)."""

VIDEO_BRANDS_EXCLUDED = (b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1")


def sniff_kind(head):
    """'image', 'video' or 'file' from the first 64 bytes."""
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video"
    if head[4:8] == b"ftyp":
        return "image" if head[8:12] in VIDEO_BRANDS_EXCLUDED else "video"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # Matroska / WebM
        return "video"
    if head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3", b"FLV")):  # MPEG-PS, MPEG-1/2, Flash video
        return "video"
    if head[:4] == b"\x30\x26\xb2\x75":  # ASF / WMV
        return "video"
    return "file"
