# Doorstep service image: the web app, the scheduler and the CLI share it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# Production unless told otherwise: no simulator, and `doorstep` refuses to start without
# PostgreSQL, DOORSTEP_SECRET_KEY and the public https DOORSTEP_PUBLIC_BASE_URL
# (bot/settings.py, docs/deploy.md). Only DOORSTEP_ENVIRONMENT=development brings the
# simulator back, for a local demo.
ENV DOORSTEP_ENVIRONMENT=production DOORSTEP_SIMULATOR=false
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
COPY nlu ./nlu
COPY storage ./storage
RUN pip install . && useradd --create-home doorstep && mkdir -p /app/var/photos && chown -R doorstep /app/var
USER doorstep

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=5 \
    CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
CMD ["doorstep", "serve", "--host", "0.0.0.0"]
