# Shared by scripts/up and scripts/down (sourced, not run): set-up, the offline Pulumi
# environment, and the embedded emulator that stands in for MotherDuck when no real
# endpoint is configured.
# shellcheck shell=bash

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${MOTHERDUCK_PULUMI_WORK:-$repo_root/.work}"
stack="${MOTHERDUCK_PULUMI_STACK:-local}"
emulator_port="${MOTHERDUCK_EMULATOR_PORT:-8787}"
emulator_url="http://127.0.0.1:$emulator_port"
emulator_pid="$work/emulator.pid"
emulator_log="$work/emulator.log"
emulator_state="$work/emulator-state.json"
emulator_token_file="$work/emulator-admin-token"

say() { printf '==> %s\n' "$*" >&2; }

setup_pulumi() {
    cd "$repo_root"
    bash scripts/bootstrap
    local bin user_backend="${PULUMI_BACKEND_URL:-}" user_pass="${PULUMI_CONFIG_PASSPHRASE:-}"
    bin="$(bash scripts/install-pulumi | tail -n 1)"
    mkdir -p "$work"
    eval "$(.venv/bin/python tools/pulumi_env.py --work-dir "$work" --bin-dir "$bin")"
    # A backend or passphrase the user chose wins over our local defaults.
    if [ -n "$user_backend" ]; then export PULUMI_BACKEND_URL="$user_backend"; fi
    if [ -n "$user_pass" ]; then export PULUMI_CONFIG_PASSPHRASE="$user_pass"; fi
    pulumi stack select --create "$stack" >&2
}

# The embedded emulator is used unless the stack or the environment names a real endpoint
# or an admin token (under our config names or the Terraform provider's). MOTHERDUCK_TOKEN
# alone does not count: DuckDB users often have it set for their own account, and a demo must
# not create service accounts in their organization.
uses_emulator() {
    local key
    [ -z "${MOTHERDUCK_API_BASE_URL:-}" ] && [ -z "${MOTHERDUCK_ADMIN_TOKEN:-}" ] || return 1
    for key in motherduck:apiUrl motherduck:apiBaseUrl motherduck:token motherduck:adminToken; do
        if pulumi config get "$key" >/dev/null 2>&1; then return 1; fi
    done
}

# The API URL the stack talks to, as the provider resolves it.
api_endpoint() {
    pulumi config get motherduck:apiUrl 2>/dev/null \
        || pulumi config get motherduck:apiBaseUrl 2>/dev/null \
        || echo "${MOTHERDUCK_API_BASE_URL:-https://api.motherduck.com}"
}

emulator_running() {
    [ -f "$emulator_pid" ] && kill -0 "$(cat "$emulator_pid")" 2>/dev/null \
        && curl -fsS "$emulator_url/_emulator/health" >/dev/null 2>&1
}

start_emulator() {
    if [ ! -s "$emulator_token_file" ]; then
        (umask 077 && .venv/bin/python -c 'import secrets; print("md-emu-" + secrets.token_urlsafe(24))' \
            > "$emulator_token_file")
    fi
    if ! emulator_running; then
        if curl -fsS "$emulator_url/_emulator/health" >/dev/null 2>&1; then
            say "port $emulator_port is taken by another emulator; stop it or set MOTHERDUCK_EMULATOR_PORT"
            return 1
        fi
        say "starting the MotherDuck emulator on $emulator_url (log: $emulator_log)"
        MOTHERDUCK_EMULATOR_ADMIN_TOKEN="$(cat "$emulator_token_file")" nohup \
            .venv/bin/motherduck-emulator --port "$emulator_port" --state-file "$emulator_state" \
            >>"$emulator_log" 2>&1 &
        echo $! > "$emulator_pid"
        for _ in $(seq 1 100); do
            emulator_running && break
            sleep 0.1
        done
        emulator_running || { say "the emulator did not start; see $emulator_log"; return 1; }
    fi
    # Environment, not stack config: the stack file stays free of emulator settings.
    export MOTHERDUCK_API_BASE_URL="$emulator_url"
    MOTHERDUCK_ADMIN_TOKEN="$(cat "$emulator_token_file")"
    export MOTHERDUCK_ADMIN_TOKEN
}

stop_emulator() {
    if [ -f "$emulator_pid" ]; then
        local pid
        pid="$(cat "$emulator_pid")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        rm -f "$emulator_pid"
    fi
}
