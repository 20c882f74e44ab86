#!/usr/bin/env bash
# A real Rasa 3.6 NLU server for CI and local testing.
#
#   .ci/rasa.sh [up]      build the Rasa venv (cached), validate our data, train (cached by
#                         content hash), start the server and write var/ci/rasa.env
#   .ci/rasa.sh build     only build/check the Rasa venv
#   .ci/rasa.sh train     build + validate + train; prints the model path
#   .ci/rasa.sh stop      stop the server this checkout started
#   .ci/rasa.sh status    exit 0 when our server answers with a loaded model
#
# Sourcing works too, but pass the subcommand explicitly (`source .ci/rasa.sh up`): bash hands
# a bare `source` the caller's own arguments. When sourced, the work runs in a child bash (so
# a failure cannot `exit` the caller's shell) and the resulting variables are exported here.
#
# Rasa 3.6 needs Python <= 3.10 and pins dependencies that clash with ours, so it lives in its
# own venv under the cache dir and never in the project's .venv. Everything is idempotent:
# a working venv, a model trained from the same data and a server already serving that model
# are all reused.
#
# Environment:
#   DOORSTEP_CACHE_DIR      cache root (default ~/.cache/doorstep)
#   DOORSTEP_RASA_PYTHON    Python 3.10 to build the venv with
#                           (default $(pyenv root)/versions/3.10.13/bin/python)
#   RASA_PORT               port on 127.0.0.1 (default 5005)
#   RASA_START_TIMEOUT      seconds to wait for a loaded model (default 180)
#   DOORSTEP_RASA_NLU, DOORSTEP_RASA_CONFIG, DOORSTEP_RASA_DOMAIN
#                           training files (default nlu/data/nlu.yml, nlu/rasa/config.yml,
#                           nlu/rasa/domain.yml)

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    _doorstep_rasa_sh="${BASH_SOURCE[0]}"
    bash "$_doorstep_rasa_sh" "$@" || return $?
    case "${1:-up}" in
    up | start)
        # shellcheck disable=SC1091
        source "$(cd "$(dirname "$_doorstep_rasa_sh")/.." && pwd)/var/ci/rasa.env"
        ;;
    stop) unset DOORSTEP_TEST_RASA_URL DOORSTEP_TEST_RASA_TOKEN ;;
    esac
    unset _doorstep_rasa_sh
    return 0
fi

set -euo pipefail

RASA_VERSION=3.6.21
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${DOORSTEP_CACHE_DIR:-$HOME/.cache/doorstep}"
VENV="$CACHE_DIR/rasa-$RASA_VERSION-py3.10"
MODELS="$CACHE_DIR/rasa-models"
STATE="$ROOT/var/ci"
PID_FILE="$STATE/rasa.pid"
LOG_FILE="$STATE/rasa.log"
ENV_FILE="$STATE/rasa.env"
PORT="${RASA_PORT:-5005}"
START_TIMEOUT="${RASA_START_TIMEOUT:-180}"
NLU="${DOORSTEP_RASA_NLU:-$ROOT/nlu/data/nlu.yml}"
CONFIG="${DOORSTEP_RASA_CONFIG:-$ROOT/nlu/rasa/config.yml}"
DOMAIN="${DOORSTEP_RASA_DOMAIN:-$ROOT/nlu/rasa/domain.yml}"

# No telemetry prompt or upload, no SQLAlchemy 2.0 nagging, training cache out of the repo.
export RASA_TELEMETRY_ENABLED=false
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export RASA_CACHE_DIRECTORY="$CACHE_DIR/rasa-train-cache"
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf 'rasa.sh: %s\n' "$*" >&2; }
die() {
    say "ERROR: $*"
    exit 1
}

with_lock() {
    # The cache may be shared by several checkouts or CI jobs on one machine.
    mkdir -p "$CACHE_DIR"
    exec 9>"$CACHE_DIR/rasa.lock"
    flock 9
}

venv_works() {
    [[ -x "$VENV/bin/rasa" ]] && "$VENV/bin/rasa" --version </dev/null >/dev/null 2>&1
}

find_python() {
    if [[ -n "${DOORSTEP_RASA_PYTHON:-}" ]]; then
        printf '%s\n' "$DOORSTEP_RASA_PYTHON"
        return
    fi
    local pyenv_root
    if command -v pyenv >/dev/null 2>&1; then
        pyenv_root="$(pyenv root)"
    else
        pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
    fi
    printf '%s\n' "$pyenv_root/versions/3.10.13/bin/python"
}

cmd_build() {
    if venv_works; then
        say "reusing Rasa venv $VENV ($("$VENV/bin/rasa" --version 2>/dev/null | sed -n 's/^Rasa Version *: *//p'))"
        return
    fi
    local python
    python="$(find_python)"
    [[ -x "$python" ]] || die "Python 3.10 not found at $python. Rasa $RASA_VERSION needs Python 3.8-3.10: run 'pyenv install 3.10.13' or set DOORSTEP_RASA_PYTHON."
    "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' ||
        die "$python is not Python 3.10 ($("$python" --version 2>&1))"
    say "building Rasa $RASA_VERSION venv in $VENV with $python (a few minutes)"
    local started=$SECONDS
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip setuptools wheel </dev/null
    "$VENV/bin/python" -m pip install --progress-bar off "rasa==$RASA_VERSION" </dev/null ||
        die "pip could not install rasa==$RASA_VERSION into $VENV"
    venv_works || die "rasa installed but 'rasa --version' fails in $VENV"
    local took=$((SECONDS - started))
    printf '%s\n' "$took" >"$VENV/.doorstep-build-seconds"
    say "Rasa venv built in ${took}s"
}

data_hash() {
    # Same recipe as nlu.rasa_train.model_name(): Rasa version line, then the three files.
    { printf 'rasa %s\n' "$RASA_VERSION" && cat "$NLU" "$CONFIG" "$DOMAIN"; } | sha256sum | cut -c1-16
}

model_path() {
    printf '%s/doorstep-nlu-%s.tar.gz\n' "$MODELS" "$(data_hash)"
}

cmd_validate() {
    local f
    for f in "$NLU" "$CONFIG" "$DOMAIN"; do
        [[ -f "$f" ]] || die "training file missing: $f"
    done
    say "validating $NLU against $DOMAIN"
    local out
    if ! out="$(cd "$ROOT" && "$VENV/bin/rasa" data validate --data "$NLU" --domain "$DOMAIN" \
        --config "$CONFIG" </dev/null 2>&1)"; then
        printf '%s\n' "$out" | tail -n 40 >&2
        die "rasa data validate failed on our NLU data"
    fi
}

cmd_train() {
    local model
    model="$(model_path)"
    if [[ -s "$model" ]]; then
        say "reusing model $model (same data hash)"
        printf '%s\n' "$model"
        return
    fi
    mkdir -p "$MODELS"
    local tmp="$MODELS/.training-$$"
    rm -rf "$tmp"
    local name
    name="$(basename "$model" .tar.gz)"
    say "training $name (TensorFlow's first import is slow)"
    local started=$SECONDS
    if ! (cd "$ROOT" && "$VENV/bin/rasa" train nlu --nlu "$NLU" --config "$CONFIG" \
        --domain "$DOMAIN" --out "$tmp" --fixed-model-name "$name" </dev/null \
        >"$tmp.log" 2>&1); then
        tail -n 40 "$tmp.log" >&2
        rm -rf "$tmp"
        die "rasa train nlu failed (log above)"
    fi
    [[ -s "$tmp/$name.tar.gz" ]] || die "rasa train nlu wrote no $tmp/$name.tar.gz"
    mv "$tmp/$name.tar.gz" "$model"
    rm -rf "$tmp" "$tmp.log"
    say "trained $model in $((SECONDS - started))s"
    printf '%s\n' "$model"
}

server_pid() {
    local pid
    [[ -f "$PID_FILE" ]] || return 1
    pid="$(cat "$PID_FILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    # A stale pid file may name a recycled pid: only ever signal our own Rasa process.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$VENV/bin/rasa run" || return 1
    printf '%s\n' "$pid"
}

# Prints the loaded model file name when the server answers /status with our token.
loaded_model() {
    local token="$1" body
    body="$(curl -fsS --max-time 5 "http://127.0.0.1:$PORT/status?token=$token" 2>/dev/null)" ||
        return 1
    printf '%s' "$body" | "$VENV/bin/python" -c \
        'import json, sys; m = json.load(sys.stdin).get("model_file") or ""; print(m); sys.exit(not m)'
}

port_busy() {
    local code
    code="$(curl -s -o /dev/null --max-time 3 -w '%{http_code}' "http://127.0.0.1:$PORT/" || true)"
    [[ "$code" != "000" ]]
}

write_env() {
    local token="$1" model="$2"
    umask 077
    cat >"$ENV_FILE.tmp" <<EOF
# Written by .ci/rasa.sh; source it to reach the Rasa server it started.
export DOORSTEP_TEST_RASA_URL=http://127.0.0.1:$PORT
export DOORSTEP_TEST_RASA_TOKEN=$token
export DOORSTEP_RASA_BIN=$VENV/bin/rasa
export DOORSTEP_TEST_RASA_MODEL=$model
EOF
    mv "$ENV_FILE.tmp" "$ENV_FILE"
}

cmd_start() {
    local model="$1" pid token=""
    mkdir -p "$STATE"
    if pid="$(server_pid)" && [[ -f "$ENV_FILE" ]]; then
        token="$(sed -n 's/^export DOORSTEP_TEST_RASA_TOKEN=//p' "$ENV_FILE")"
        if [[ "$(loaded_model "$token" || true)" == "$(basename "$model")" ]]; then
            say "Rasa already serving $(basename "$model") as pid $pid"
            write_env "$token" "$model"
            cat "$ENV_FILE"
            return
        fi
        say "Rasa pid $pid serves something else; restarting it"
    fi
    cmd_stop
    port_busy && die "port $PORT on 127.0.0.1 is taken by another process; set RASA_PORT"
    token="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    say "starting Rasa on 127.0.0.1:$PORT with $(basename "$model") (log: $LOG_FILE)"
    local started=$SECONDS
    # setsid: the server gets its own process group so `stop` can end it and any children
    # by that one id. 9>&- keeps the cache lock from leaking into the long-lived server.
    (cd "$STATE" && exec setsid "$VENV/bin/rasa" run --enable-api --auth-token "$token" \
        -i 127.0.0.1 -p "$PORT" -m "$model" </dev/null >"$LOG_FILE" 2>&1 9>&-) &
    pid=$!
    printf '%s\n' "$pid" >"$PID_FILE"
    while true; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 40 "$LOG_FILE" >&2 || true
            rm -f "$PID_FILE"
            die "Rasa exited during start-up (log tail above)"
        fi
        if loaded_model "$token" >/dev/null; then
            break
        fi
        if ((SECONDS - started >= START_TIMEOUT)); then
            tail -n 40 "$LOG_FILE" >&2 || true
            cmd_stop
            die "Rasa did not load a model within ${START_TIMEOUT}s (log tail above)"
        fi
        sleep 1
    done
    write_env "$token" "$model"
    say "Rasa ready in $((SECONDS - started))s as pid $pid"
    cat "$ENV_FILE"
}

cmd_stop() {
    local pid
    if pid="$(server_pid)"; then
        say "stopping Rasa pid $pid"
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        local i
        for i in $(seq 1 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$PID_FILE" "$ENV_FILE"
}

cmd_status() {
    local token
    server_pid >/dev/null || die "no Rasa server started by this checkout"
    [[ -f "$ENV_FILE" ]] || die "no $ENV_FILE"
    token="$(sed -n 's/^export DOORSTEP_TEST_RASA_TOKEN=//p' "$ENV_FILE")"
    loaded_model "$token" || die "Rasa on port $PORT does not answer /status with a model"
}

main() {
    local cmd="${1:-up}"
    case "$cmd" in
    build)
        with_lock
        cmd_build
        ;;
    validate)
        with_lock
        cmd_build
        cmd_validate
        ;;
    train)
        with_lock
        cmd_build
        cmd_validate
        cmd_train
        ;;
    up | start)
        with_lock
        local started=$SECONDS model
        cmd_build
        cmd_validate
        model="$(cmd_train)"
        cmd_start "$model"
        say "up in $((SECONDS - started))s"
        ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) die "unknown command '$cmd' (use up, build, validate, train, start, stop or status)" ;;
    esac
}

main "$@"
