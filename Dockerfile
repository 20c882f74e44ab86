# Doorstep service image: the web app, the scheduler and the CLI share it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
COPY nlu ./nlu
COPY storage ./storage
RUN pip install . && useradd --create-home doorstep && mkdir -p /app/var && chown doorstep /app/var
USER doorstep

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=5 \
    CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
CMD ["doorstep", "serve", "--host", "0.0.0.0"]
