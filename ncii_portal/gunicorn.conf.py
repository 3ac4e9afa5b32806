# gunicorn settings for production: `gunicorn -c ncii_portal/gunicorn.conf.py ncii_portal.wsgi` (docs/operations.md).
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", 3))
# Only the local reverse proxy may set X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# Every log line passes RedactSecrets: set-password keys and link tokens are in request paths.
logger_class = "ncii_portal.logging.GunicornLogger"
