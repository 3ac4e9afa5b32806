import json

from django.core.management.base import BaseCommand

from hashing.reference import CannotHash, hash_file
from hashing.video import video_fields


class Command(BaseCommand):
    help = ("Hash files with the Python reference hasher. Prints one JSON object per line: "
            '{"path", "kind", "md5", "pdq", "pdq_quality", "phash"} or {"path", "error"}; a video also has '
            '"vpdq" and "frames" (how many were hashed), or, when its frames cannot be decoded, nulls there and '
            '"vpdq_error" (it keeps its MD5). Exits with status 1 if any file failed.')
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")

    def handle(self, *args, paths, **options):
        failed = False
        for path in paths:
            try:
                line = {"path": path, **hash_file(path)}
            except CannotHash as exc:
                failed = True
                line = {"path": path, "error": f"cannot hash {path}: {exc}"}
            else:
                if line["kind"] == "video":
                    line.update(video_fields(path))
            self.stdout.write(json.dumps(line))
        if failed:
            raise SystemExit(1)
